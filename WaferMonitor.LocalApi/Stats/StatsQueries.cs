using System.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Stats;

/// <summary>
/// Dashboard statistics. Whole 5-minute granules come from the rollups, summed in the database (whole hours of histogram
/// bins from the hourly ones); the partial granules at both ends of the range, and granules whose rollups are not yet
/// refreshed, are read as job rows and added here — a few thousand rows, cheaper to sum in passing than to group in SQL.
/// Everything is read in one repeatable-read snapshot, so the rollups, the dirty list and the rows agree.
/// </summary>
internal sealed class StatsQueries(NpgsqlDataSource dataSource, IOptions<StatsOptions> options, TimeProvider clock)
{
    public const int MaxBuckets = 10_000;

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Granule = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    // The range [from, to) is read in nested pieces: [m0, m1) whole minutes, [g0, g1) whole 5-minute granules inside
    // them, [h0, h1) whole hours inside those (histograms only; counts are summed from granules). Minutes outside
    // [g0, g1) come from the minute rollups, what is outside [m0, m1) from the job rows. @dirty lists the granules in
    // [m0, m1) not yet refolded (read from the job rows instead), @dirty_hours their hours in [h0, h1); the list is a
    // parameter rather than a subquery so the plan never depends on how many granules the table statistics last saw
    // there. Bins come back as one row per span, app and metric, and are summed here: a few hundred rows of arrays.
    private const string CountsSql = """
        SELECT date_bin(@bucket, granule_start, timestamptz 'epoch') AS bucket, app_name, status, sum(jobs)::bigint
        FROM job_stats_count
        WHERE app_name <> @excluded AND ((span_s = 300 AND granule_start >= @g0 AND granule_start < @g1 AND granule_start <> ALL (@dirty::timestamptz[]))
           OR (span_s = 60 AND ((granule_start >= @m0 AND granule_start < @g0) OR (granule_start >= @g1 AND granule_start < @m1))
               AND date_bin('5 minutes', granule_start, timestamptz 'epoch') <> ALL (@dirty::timestamptz[])))
        GROUP BY GROUPING SETS ((bucket, status), (app_name, status))
        """;

    private const string BinsSql = """
        SELECT app_name, metric, bins, jobs FROM job_stats_bin
        WHERE app_name <> @excluded AND span_s = 3600 AND granule_start >= @h0 AND granule_start < @h1 AND granule_start <> ALL (@dirty_hours::timestamptz[])
        UNION ALL
        SELECT app_name, metric, bins, jobs FROM job_stats_bin
        WHERE app_name <> @excluded AND span_s = 300 AND granule_start <> ALL (@dirty::timestamptz[])
          AND ((granule_start >= @g0 AND granule_start < @h0) OR (granule_start >= @h1 AND granule_start < @g1))
        UNION ALL
        SELECT b.app_name, b.metric, b.bins, b.jobs
        FROM unnest(@dirty_hours::timestamptz[]) AS dirty_hour(h)
        JOIN job_stats_bin b ON b.span_s = 300 AND b.granule_start >= dirty_hour.h AND b.granule_start < dirty_hour.h + interval '1 hour'
        WHERE b.app_name <> @excluded AND b.granule_start <> ALL (@dirty::timestamptz[])
        UNION ALL
        SELECT app_name, metric, bins, jobs FROM job_stats_bin
        WHERE app_name <> @excluded AND span_s = 60
          AND ((granule_start >= @m0 AND granule_start < @g0) OR (granule_start >= @g1 AND granule_start < @m1))
          AND date_bin('5 minutes', granule_start, timestamptz 'epoch') <> ALL (@dirty::timestamptz[])
        """;

    // The job rows outside [m0, m1), and those of dirty granules (clipped to [m0, m1): a dirty granule at an end of the
    // range reaches beyond it).
    private const string RawSql = """
        SELECT started_at, app_name, status, duration_s, cpu_user_s, mem_max_mb FROM job WHERE started_at >= @from AND started_at < @m0 AND app_name <> @excluded
        UNION ALL
        SELECT started_at, app_name, status, duration_s, cpu_user_s, mem_max_mb FROM job WHERE started_at >= @m1 AND started_at < @to AND app_name <> @excluded
        UNION ALL
        SELECT j.started_at, j.app_name, j.status, j.duration_s, j.cpu_user_s, j.mem_max_mb
        FROM unnest(@dirty::timestamptz[]) AS dirty(g)
        JOIN job j ON j.started_at >= greatest(dirty.g, @m0) AND j.started_at < least(dirty.g + interval '5 minutes', @m1)
            AND j.app_name <> @excluded
        """;

    // Every granule that overlaps [m0, m1).
    private const string DirtySql = """
        SELECT DISTINCT granule_start FROM job_stats_dirty
        WHERE granule_start > @m0 - interval '5 minutes' AND granule_start < @m1
        """;

    private const string RunningSql = """
        SELECT (SELECT count(*) FROM job WHERE status = 'running' AND app_name <> @excluded), o.started_at, o.job_id
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (SELECT started_at, job_id FROM job WHERE status = 'running' AND app_name <> @excluded ORDER BY started_at, job_id LIMIT 1) o ON true
        """;

    private const string ExactPercentilesSql = """
        SELECT app_name,
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_s),
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY cpu_user_s),
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY mem_max_mb)
        FROM job WHERE started_at >= @from AND started_at < @to AND app_name <> @excluded GROUP BY app_name
        """;

    private enum Metric : short { DurationS = 1, CpuUserS = 2, MemMaxMb = 3 }

    private sealed class AppAccumulator
    {
        public long Jobs;
        public long Failed;
        public long Finished;
        public readonly Dictionary<(Metric Metric, int Bin), long> Bins = [];
        public (Percentiles Duration, Percentiles Cpu, Percentiles Mem)? Exact;

        public void AddBin(Metric metric, int bin, long jobs) =>
            Bins[(metric, bin)] = Bins.GetValueOrDefault((metric, bin)) + jobs;

        public void AddValue(Metric metric, double? value)
        {
            if (value is { } v)
                AddBin(metric, StatsHistogram.Bin(v), 1);
        }

        public Percentiles FromBins(Metric metric) =>
            StatsHistogram.Percentiles(Bins.Where(b => b.Key.Metric == metric).Select(b => (b.Key.Bin, b.Value)));
    }

    /// <param name="includeSynthetic">False leaves the synthetic checks' app out of every figure (@excluded names it; an
    /// empty name excludes nothing, as no app has one).</param>
    public async Task<JobStats> GetAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan bucket, bool includeSynthetic, CancellationToken cancellationToken)
    {
        var excluded = includeSynthetic ? "" : SyntheticChecks.CanaryApp;
        var (m0, m1, g0, g1, h0, h1) = RollupBounds(from, to, bucket);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

        var totals = new StatusCountsBuilder();
        var buckets = new SortedDictionary<DateTimeOffset, StatusCountsBuilder>();
        var apps = new SortedDictionary<string, AppAccumulator>(StringComparer.Ordinal);
        AppAccumulator App(string name) => apps.TryGetValue(name, out var app) ? app : apps[name] = new AppAccumulator();
        void Count(DateTimeOffset? bucketStart, string? app, string status, long jobs)
        {
            if (bucketStart is { } start)
            {
                if (!buckets.TryGetValue(start, out var inBucket))
                    buckets[start] = inBucket = new StatusCountsBuilder();
                inBucket.Add(status, jobs);
            }
            if (app is null)
                return;
            totals.Add(status, jobs);
            var accumulator = App(app);
            accumulator.Jobs += jobs;
            if (status == EntityStatuses.Failed)
                accumulator.Failed += jobs;
            if (status != EntityStatuses.Running)
                accumulator.Finished += jobs;
        }

        var dirty = await ReadDirtyGranulesAsync(connection, transaction, m0, m1, cancellationToken);
        var dirtyHours = dirty.Select(g => Floor(g, Hour)).Where(h => h >= h0 && h < h1).Distinct().ToArray();
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            // Each statement is given every bound and uses the ones it names.
            NpgsqlBatchCommand Command(string sql)
            {
                var command = new NpgsqlBatchCommand(sql);
                var p = command.Parameters;
                p.AddWithValue("from", from);
                p.AddWithValue("to", to);
                p.AddWithValue("m0", m0);
                p.AddWithValue("m1", m1);
                p.AddWithValue("g0", g0);
                p.AddWithValue("g1", g1);
                p.AddWithValue("h0", h0);
                p.AddWithValue("h1", h1);
                p.AddWithValue("dirty", dirty);
                p.AddWithValue("dirty_hours", dirtyHours);
                p.AddWithValue("bucket", bucket);
                p.AddWithValue("excluded", excluded);
                return command;
            }
            batch.BatchCommands.Add(Command(CountsSql));
            batch.BatchCommands.Add(Command(BinsSql));
            batch.BatchCommands.Add(Command(RawSql));
            // Prepared once per physical connection: planning these costs about as much as running them.
            await batch.PrepareAsync(cancellationToken);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                // GROUPING SETS: the (bucket, status) rows have no app, the (app_name, status) rows no bucket.
                if (reader.IsDBNull(1))
                    Count(reader.GetFieldValue<DateTimeOffset>(0), null, reader.GetString(2), reader.GetInt64(3));
                else
                    Count(null, reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var app = App(reader.GetString(0));
                var metric = (Metric)reader.GetInt16(1);
                var binNumbers = reader.GetFieldValue<int[]>(2);
                var jobs = reader.GetFieldValue<long[]>(3);
                for (var i = 0; i < binNumbers.Length; i++)
                    app.AddBin(metric, binNumbers[i], jobs[i]);
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var app = reader.GetString(1);
                Count(Floor(reader.GetFieldValue<DateTimeOffset>(0), bucket), app, reader.GetString(2), 1);
                var accumulator = App(app);
                accumulator.AddValue(Metric.DurationS, reader.IsDBNull(3) ? null : reader.GetDouble(3));
                accumulator.AddValue(Metric.CpuUserS, reader.IsDBNull(4) ? null : reader.GetDouble(4));
                accumulator.AddValue(Metric.MemMaxMb, reader.IsDBNull(5) ? null : reader.GetDouble(5));
            }
        }

        var exact = totals.Total <= options.Value.ExactPercentileJobs;
        if (exact)
            await ReadExactPercentilesAsync(connection, transaction, from, to, excluded, App, cancellationToken);
        var running = await ReadRunningAsync(connection, transaction, excluded, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        var perApp = apps.Select(a => new AppStats(a.Key, a.Value.Jobs, a.Value.Failed,
                a.Value.Finished == 0 ? null : (double)a.Value.Failed / a.Value.Finished,
                a.Value.Exact?.Duration ?? a.Value.FromBins(Metric.DurationS),
                a.Value.Exact?.Cpu ?? a.Value.FromBins(Metric.CpuUserS),
                a.Value.Exact?.Mem ?? a.Value.FromBins(Metric.MemMaxMb)))
            .ToList();
        return new JobStats(from, to, (long)bucket.TotalSeconds, totals.Build(),
            buckets.Select(b => b.Value.BuildBucket(b.Key)).ToList(), perApp, running, exact ? "exact" : "histogram");
    }

    /// <summary>
    /// [m0, m1): the whole minutes inside [from, to); [g0, g1): the whole granules inside those; [h0, h1): the whole hours
    /// inside those. Nothing is read from the rollups when a bucket is not a whole number of granules (a granule would
    /// straddle two buckets).
    /// </summary>
    private static (DateTimeOffset M0, DateTimeOffset M1, DateTimeOffset G0, DateTimeOffset G1, DateTimeOffset H0, DateTimeOffset H1)
        RollupBounds(DateTimeOffset from, DateTimeOffset to, TimeSpan bucket)
    {
        var m0 = Ceiling(from, Minute);
        var m1 = Floor(to, Minute);
        if (bucket.Ticks % Granule.Ticks != 0 || m0 >= m1)
            return (to, to, to, to, to, to);
        var g0 = Ceiling(m0, Granule);
        var g1 = Floor(m1, Granule);
        if (g0 >= g1)
            return (m0, m1, m1, m1, m1, m1);
        var h0 = Ceiling(g0, Hour);
        var h1 = Floor(g1, Hour);
        return h0 < h1 ? (m0, m1, g0, g1, h0, h1) : (m0, m1, g0, g1, g1, g1);
    }

    private static DateTimeOffset Floor(DateTimeOffset at, TimeSpan span)
    {
        var sinceEpoch = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return DateTimeOffset.UnixEpoch.AddTicks(sinceEpoch - (((sinceEpoch % span.Ticks) + span.Ticks) % span.Ticks));
    }

    private static DateTimeOffset Ceiling(DateTimeOffset at, TimeSpan span)
    {
        var floor = Floor(at, span);
        return floor == at ? floor : floor + span;
    }

    private static async Task<DateTimeOffset[]> ReadDirtyGranulesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        DateTimeOffset m0, DateTimeOffset m1, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(DirtySql, connection, transaction);
        command.Parameters.AddWithValue("m0", m0);
        command.Parameters.AddWithValue("m1", m1);
        var granules = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            granules.Add(reader.GetFieldValue<DateTimeOffset>(0));
        return [.. granules];
    }

    private static async Task ReadExactPercentilesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        DateTimeOffset from, DateTimeOffset to, string excluded, Func<string, AppAccumulator> app, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ExactPercentilesSql, connection, transaction);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        command.Parameters.AddWithValue("excluded", excluded);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            app(reader.GetString(0)).Exact = (Percentiles(reader, 1), Percentiles(reader, 2), Percentiles(reader, 3));
    }

    private async Task<RunningJobs> ReadRunningAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string excluded,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(RunningSql, connection, transaction);
        command.Parameters.AddWithValue("excluded", excluded);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var oldest = reader.IsDBNull(1) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(1);
        return new RunningJobs(reader.GetInt64(0), oldest, reader.IsDBNull(2) ? null : reader.GetGuid(2),
            oldest is { } started ? (clock.GetUtcNow() - started).TotalSeconds : null);
    }

    private static Percentiles Percentiles(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return new Percentiles(null, null, null);
        var values = reader.GetFieldValue<double?[]>(ordinal);
        return new Percentiles(values[0], values[1], values[2]);
    }

    private sealed class StatusCountsBuilder
    {
        private long running, succeeded, failed, canceled;

        public long Total => running + succeeded + failed + canceled;

        public void Add(string status, long jobs)
        {
            switch (status)
            {
                case EntityStatuses.Running: running += jobs; break;
                case EntityStatuses.Succeeded: succeeded += jobs; break;
                case EntityStatuses.Failed: failed += jobs; break;
                case EntityStatuses.Canceled: canceled += jobs; break;
            }
        }

        public StatusCounts Build() => new(running, succeeded, failed, canceled, Total);

        public StatsBucket BuildBucket(DateTimeOffset start) => new(start, running, succeeded, failed, canceled);
    }
}
