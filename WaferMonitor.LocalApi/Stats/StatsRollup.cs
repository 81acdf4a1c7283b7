using System.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Stats;

/// <summary>
/// Folds changed 5-minute granules (listed in <c>job_stats_dirty</c> by triggers on <c>job</c>) into the stats rollups.
/// Each pass reads the dirty list, the jobs and writes the rollups in one repeatable-read snapshot and deletes only the
/// dirty rows that snapshot saw, so a change committed meanwhile stays listed and is folded by the next pass.
/// </summary>
internal sealed partial class StatsRollup(
    [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, DbMetrics db, StatsMetrics metrics, BackgroundLoops loops, IOptions<StatsOptions> options,
    ILogger<StatsRollup> logger) : BackgroundService
{
    public const string LoopName = "stats_rollup";

    private const long RollupLockId = 0x57_4D_53_54_41; // "WMSTA"

    /// <summary>Granules per transaction: enough to catch up quickly after a bulk load, small enough to keep transactions short.</summary>
    private const int GranulesPerPass = 48;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RollupInterval.Value);
        do
        {
            try
            {
                int folded;
                do
                    folded = await FoldPassAsync(stoppingToken);
                while (folded == GranulesPerPass);
                loops.Succeeded(LoopName);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                loops.Failed(LoopName, ex);
                LogFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <returns>How many granules this pass folded (0 when none were dirty or another replica holds the lock).</returns>
    private async Task<int> FoldPassAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@lock)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("lock", RollupLockId);
            if (!(bool)(await lockCommand.ExecuteScalarAsync(cancellationToken))!)
                return 0;
        }
        var granules = new List<DateTime>();
        await using (var command = new NpgsqlCommand(
            "SELECT DISTINCT granule_start FROM job_stats_dirty ORDER BY granule_start LIMIT @limit", connection, transaction))
        {
            command.Parameters.AddWithValue("limit", GranulesPerPass);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                granules.Add(reader.GetDateTime(0));
        }
        if (granules.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return 0;
        }

        var granuleArray = granules.ToArray();
        NpgsqlBatchCommand Command(string sql)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.AddWithValue("granules", granuleArray);
            return command;
        }
        // Bins of each [start, start + length) of the given span, summed from the rows of the finer span inside it.
        NpgsqlBatchCommand SumBins(int span, string start, string starts, string length, int finerSpan) => Command($"""
            INSERT INTO job_stats_bin (span_s, granule_start, app_name, metric, bins, jobs)
            SELECT {span}, {start}, app_name, metric, array_agg(bin ORDER BY bin), array_agg(jobs ORDER BY bin)
            FROM (
                SELECT {start}, b.app_name, b.metric, u.bin, sum(u.jobs)::bigint AS jobs
                {starts}
                JOIN job_stats_bin b ON b.span_s = {finerSpan} AND b.granule_start >= {start} AND b.granule_start < {start} + {length}
                CROSS JOIN LATERAL unnest(b.bins, b.jobs) AS u(bin, jobs)
                GROUP BY 1, 2, 3, 4) summed
            GROUP BY {start}, app_name, metric
            """);
        await using (var clamped = new NpgsqlCommand($"""
            SELECT count(*) FROM unnest(@granules) g JOIN job j ON j.started_at >= g AND j.started_at < g + interval '5 minutes'
            WHERE greatest(abs(j.duration_s), abs(j.cpu_user_s), abs(j.mem_max_mb)) > {StatsHistogram.Largest}
            """, connection, transaction))
        {
            clamped.Parameters.AddWithValue("granules", granuleArray);
            metrics.Clamped((long)(await clamped.ExecuteScalarAsync(cancellationToken))!);
        }
        await db.MeasureAsync("rollup", "job_stats", async () =>
        {
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    // Minutes and granules inside the dirty granules; then granules from their minutes, hours from granules.
                    Command("""
                        DELETE FROM job_stats_count c USING unnest(@granules) g
                        WHERE c.span_s IN (60, 300) AND c.granule_start >= g AND c.granule_start < g + interval '5 minutes'
                        """),
                    Command("""
                        DELETE FROM job_stats_bin b USING unnest(@granules) g
                        WHERE b.span_s IN (60, 300) AND b.granule_start >= g AND b.granule_start < g + interval '5 minutes'
                        """),
                    Command("""
                        INSERT INTO job_stats_count (span_s, granule_start, app_name, status, jobs)
                        SELECT 60, date_bin('1 minute', j.started_at, timestamptz 'epoch'), j.app_name, j.status, count(*)
                        FROM unnest(@granules) g JOIN job j ON j.started_at >= g AND j.started_at < g + interval '5 minutes'
                        GROUP BY 2, 3, 4
                        """),
                    Command("""
                        INSERT INTO job_stats_count (span_s, granule_start, app_name, status, jobs)
                        SELECT 300, g, c.app_name, c.status, sum(c.jobs)
                        FROM unnest(@granules) g JOIN job_stats_count c
                          ON c.span_s = 60 AND c.granule_start >= g AND c.granule_start < g + interval '5 minutes'
                        GROUP BY 2, 3, 4
                        """),
                    Command("""
                        INSERT INTO job_stats_bin (span_s, granule_start, app_name, metric, bins, jobs)
                        SELECT 60, minute, app_name, metric, array_agg(bin ORDER BY bin), array_agg(jobs ORDER BY bin)
                        FROM (
                            SELECT date_bin('1 minute', j.started_at, timestamptz 'epoch') AS minute, j.app_name, m.metric,
                                   wm_stat_bin(m.value) AS bin, count(*) AS jobs
                            FROM unnest(@granules) g JOIN job j ON j.started_at >= g AND j.started_at < g + interval '5 minutes'
                            CROSS JOIN LATERAL (VALUES (1::smallint, j.duration_s), (2::smallint, j.cpu_user_s), (3::smallint, j.mem_max_mb)) m(metric, value)
                            WHERE m.value IS NOT NULL
                            GROUP BY 1, 2, 3, 4) binned
                        GROUP BY minute, app_name, metric
                        """),
                    SumBins(300, "g", "FROM unnest(@granules) g", "interval '5 minutes'", 60),
                    Command("""
                        DELETE FROM job_stats_bin WHERE span_s = 3600
                          AND granule_start IN (SELECT date_bin('1 hour', g, timestamptz 'epoch') FROM unnest(@granules) g)
                        """),
                    SumBins(3600, "h", "FROM (SELECT DISTINCT date_bin('1 hour', g, timestamptz 'epoch') AS h FROM unnest(@granules) g) hours",
                        "interval '1 hour'", 300),
                    Command("DELETE FROM job_stats_dirty WHERE granule_start = ANY(@granules)"),
                },
            };
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });
        LogFolded(granules.Count, granules[0], granules[^1]);
        return granules.Count;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Folded {granules} stats granules from {first:O} to {last:O}")]
    private partial void LogFolded(int granules, DateTime first, DateTime last);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stats rollup failed; it will retry on the next interval")]
    private partial void LogFailed(Exception exception);
}
