using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using WaferMonitor.LocalApi;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.Rigs;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 30: a site at full size (20 million events in the 72 h window, 7 days of idempotency keys). In one run: ingest
/// on empty tables, the site built in bulk, then at that size ingest, queries, stream resume, retention dropping a day
/// while ingest runs, the Archiver catching up an hour, sustained ingest for minutes, a LocalApi restart and its first
/// minute, disk per event and resident memory — each printed beside its goal.
/// </summary>
internal static class ScaleBenchmark
{
    private const int Connections = 8;
    private const int BatchSize = 1000;
    private const int IngestEvents = 300_000;
    private static readonly TimeSpan HotWindow = TimeSpan.FromHours(72);
    private static readonly TimeSpan DedupeWindow = TimeSpan.FromDays(7);

    private sealed record Figure(string Name, string Value, string Goal, bool? Met);

    public static async Task RunAsync(BenchFab fab, int events, int? jobs, TimeSpan sustain, IdLayout loadIds, TextWriter output, CancellationToken cancellationToken)
    {
        var runStarted = Stopwatch.GetTimestamp();
        var lots = jobs ?? Math.Max(1, events / ScaleSite.EventsPerLot);
        output.WriteLine($"== scale: a site of about {(long)lots * ScaleSite.EventsPerLot:N0} events ({lots:N0} lots of {ScaleSite.WafersPerLot} wafers) over {HotWindow.TotalHours:0} h ==");
        var settings = await ScalarsAsync(fab, """
            SELECT name || ' ' || current_setting(name) FROM unnest(ARRAY['shared_buffers', 'max_wal_size', 'wal_compression', 'checkpoint_timeout']) name
            """, cancellationToken);
        output.WriteLine($"PostgreSQL: {string.Join(", ", settings)}");
        var figures = new List<Figure>();
        var localApiResource = fab.App.Get<ProjectResource>($"localapi-{BenchFab.Site}");
        // The Archiver would spend the run archiving the loaded window; it is started for its own measurement.
        await fab.App.Get<ProjectResource>($"archiver-{BenchFab.Site}").StopForNowAsync();
        using var localApi = fab.Client($"localapi-{BenchFab.Site}");
        using var sidecar = fab.Client($"sidecar-{BenchFab.Site}");
        var cpu = new IngestBenchmark.CpuPerEvent(
            ("LocalApi", localApiResource.ProcessId),
            ("Sidecar", fab.App.Get<ProjectResource>($"sidecar-{BenchFab.Site}").ProcessId),
            ("PostgreSQL", fab.App.Get<PostgresResource>("postgres").ProcessId));

        output.WriteLine("-- ingest on empty tables (the same run's baseline)");
        await IngestBenchmark.StoreAllAsync(fab, localApi, IngestBenchmark.WarmUpEvents, cancellationToken);
        output.WriteLine("    (b) " + await IngestBenchmark.SettleAsync(fab, localApi, cpu, cancellationToken));
        await IngestBenchmark.StoreAllAsync(fab, sidecar, IngestBenchmark.WarmUpEvents, cancellationToken);
        output.WriteLine("    (c) " + await IngestBenchmark.SettleAsync(fab, sidecar, cpu, cancellationToken));
        // Both layouts of ids, as the v2 SDK (random) and the WaferMonitor SDK (time-ordered) make them: what an insert into
        // a B-tree of millions costs depends on whether new keys land beside the last ones or anywhere.
        var layouts = new[] { (IdLayout.Random, "random ids"), (IdLayout.TimeOrdered, "time-ordered ids") };
        async Task<double> IngestAsync(string path, HttpClient client, IdLayout ids, double? emptyRate)
        {
            var (rate, report) = await IngestBenchmark.MeasureStoredAsync(fab, client, cpu, IngestEvents, emptyTablesFirst: emptyRate is null, cancellationToken, ids: ids);
            var tables = emptyRate is { } empty ? $"full size              {rate,10:N0} events/s  = {rate / empty:P0} of empty tables" : $"empty tables           {rate,10:N0} events/s";
            output.WriteLine($"{path,-46}{tables}");
            output.WriteLine(report);
            return rate;
        }
        var empty = new Dictionary<(string, IdLayout), double>();
        foreach (var (ids, label) in layouts)
        {
            empty[("b", ids)] = await IngestAsync($"(b) LocalApi batch ingest, {label},", localApi, ids, null);
            empty[("c", ids)] = await IngestAsync($"(c) Sidecar -> LocalApi, {label},", sidecar, ids, null);
        }

        output.WriteLine("-- building the site in bulk");
        await fab.EmptySiteTablesAsync(cancellationToken);
        var building = Stopwatch.GetTimestamp();
        await ScaleSite.BuildAsync(fab.ConnectionString, lots, HotWindow, DedupeWindow, output, cancellationToken);
        await QueryBenchmark.WaitForStatsRollupsAsync(fab.ConnectionString, cancellationToken);
        var size = await SiteSizeAsync(fab, cancellationToken);
        output.WriteLine($"built in {Stopwatch.GetElapsedTime(building).TotalMinutes:0.0} min: {size.Events:N0} events, {size.Jobs:N0} jobs, {size.Subjobs:N0} subjobs, {size.Keys:N0} idempotency keys");
        figures.Add(Disk(size));
        output.WriteLine($"disk per event, all-in: {figures[^1].Value}");

        output.WriteLine("-- ingest at full size");
        foreach (var (ids, label) in layouts)
        {
            var fullLocal = await IngestAsync($"(b) LocalApi batch ingest, {label},", localApi, ids, empty[("b", ids)]);
            var fullEndToEnd = await IngestAsync($"(c) Sidecar -> LocalApi, {label},", sidecar, ids, empty[("c", ids)]);
            var emptyLocal = empty[("b", ids)];
            figures.Add(new($"ingest via LocalApi at full size, {label}", $"{fullLocal:N0} events/s", "≥ 20,000 events/s", fullLocal >= 20_000));
            figures.Add(new("  … against empty tables in this run", $"{fullLocal / emptyLocal:P0} of {emptyLocal:N0}", "≥ 60 %", fullLocal / emptyLocal >= 0.6));
            figures.Add(new($"ingest Sidecar → LocalApi, {label}", $"{fullEndToEnd:N0} events/s ({fullEndToEnd / empty[("c", ids)]:P0} of empty)", "(context)", null));
        }

        output.WriteLine("-- queries at full size");
        figures.AddRange(await QueriesAsync(fab, localApi, output, cancellationToken));

        output.WriteLine("-- retention drops the oldest day while ingest runs");
        figures.Add(await RetentionAsync(fab, localApi, loadIds, output, cancellationToken));

        output.WriteLine("-- the Archiver catches up an hour");
        figures.Add(await ArchiveHourAsync(fab, output, cancellationToken));

        output.WriteLine($"-- sustained ingest through LocalApi for {sustain.TotalMinutes:0} min, {(loadIds == IdLayout.Random ? "random" : "time-ordered")} ids (autovacuum and checkpoints as configured)");
        var sustained = await SustainedAsync(fab, localApi, sustain, loadIds, output, cancellationToken);
        figures.Add(new("sustained ingest, whole run", $"{sustained.Average:N0} events/s (slowest minute {sustained.SlowestMinute:N0})", "≥ 20,000 events/s", sustained.SlowestMinute >= 20_000));

        output.WriteLine("-- LocalApi restart: time to ready, then its first minute of ingest");
        figures.AddRange(await RestartAsync(fab, localApiResource, localApi, sustained.Average, loadIds, output, cancellationToken));

        figures.AddRange(ResidentMemory(fab));

        output.WriteLine();
        output.WriteLine($"== scale: {size.Events:N0} events at the start, measured in {Stopwatch.GetElapsedTime(runStarted).TotalMinutes:0} min; figures against the goals ==");
        foreach (var figure in figures)
        {
            var verdict = figure.Met switch { true => "met", false => "MISSED", null => "" };
            output.WriteLine($"{figure.Name,-50} {figure.Value,-40} {figure.Goal,-18} {verdict}");
        }
    }

    private sealed record SiteSize(long Events, long Jobs, long Subjobs, long Keys, long DatabaseBytes, IReadOnlyList<(string Table, long Bytes)> Tables);

    private static async Task<SiteSize> SiteSizeAsync(BenchFab fab, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(fab.ConnectionString + ";Command Timeout=0");
        await connection.OpenAsync(cancellationToken);
        async Task<long> Scalar(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        var tables = new List<(string, long)>();
        await using (var command = new NpgsqlCommand("""
            SELECT t, sum(pg_total_relation_size(c.oid))::bigint
            FROM (VALUES ('event'), ('event_key'), ('job'), ('subjob'), ('job_stats_count'), ('job_stats_bin')) v(t)
            JOIN pg_class c ON c.relname = v.t OR (v.t = 'event' AND c.relname LIKE 'event\_p%' AND c.relkind = 'r')
            GROUP BY t ORDER BY 2 DESC
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                tables.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return new SiteSize(await Scalar("SELECT count(*) FROM event"), await Scalar("SELECT count(*) FROM job"), await Scalar("SELECT count(*) FROM subjob"),
            await Scalar("SELECT count(*) FROM event_key"), await Scalar("SELECT pg_database_size(current_database())"), tables);
    }

    private static Figure Disk(SiteSize size)
    {
        var perEvent = (double)size.DatabaseBytes / size.Events;
        var parts = string.Join(", ", size.Tables.Select(t => $"{t.Table} {(double)t.Bytes / size.Events:0}"));
        return new("disk per event, all-in (bytes)", $"{perEvent:N0} ({parts})", "≤ 1,500 bytes", perEvent <= 1500);
    }

    private static async Task<List<Figure>> QueriesAsync(BenchFab fab, HttpClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var lots = await ScalarsAsync(fab, "SELECT job_id::text FROM job WHERE winner_status IS NOT NULL ORDER BY random() LIMIT 60", cancellationToken);
        var lotKeys = await ScalarsAsync(fab, "SELECT job_key FROM job ORDER BY random() LIMIT 60", cancellationToken);
        var queries = new (string Name, Func<int, string> Path)[]
        {
            ("100 newest jobs", _ => "/v1/jobs?limit=100"),
            ("failed jobs of apps named 'etch'", _ => "/v1/jobs?status=failed&app_name=etch&limit=100"),
            ("running jobs", _ => "/v1/jobs?status=running&limit=100"),
            ("a lot by its business key", i => $"/v1/jobs?business_key={lotKeys[i % lotKeys.Count]}&limit=100"),
            ("job detail of a lot with 25 wafers", i => $"/v1/jobs/{lots[i % lots.Count]}"),
            ("a lot's wafers (subjobs of one job)", i => $"/v1/subjobs?job_id={lots[i % lots.Count]}&limit=100"),
            ("100 newest subjobs", _ => "/v1/subjobs?limit=100"),
            ("/v1/stats over 24 h", _ => "/v1/stats"),
            ("/v1/stats over 72 h", _ => $"/v1/stats?from={DateTimeOffset.UtcNow.AddHours(-72):O}".Replace("+", "%2B", StringComparison.Ordinal)),
        };
        var figures = new List<Figure>();
        foreach (var (name, path) in queries)
        {
            var p95 = await QueryBenchmark.ReportAsync(output, name, client, path, cancellationToken);
            figures.Add(new($"query p95: {name}", $"{p95:0.0} ms", "≤ 20 ms", p95 <= 20));
        }
        var resume = await StreamResumeAsync(fab, client, cancellationToken);
        output.WriteLine($"{"stream resume (Last-Event-ID 1,000 back) → first event",-50} {Measure.Summary(resume)}");
        var resumeP95 = Measure.Percentile(resume, 0.95);
        figures.Add(new("stream resume p95 (1,000 events back)", $"{resumeP95:0.0} ms", "≤ 20 ms", resumeP95 <= 20));
        return figures;
    }

    private static async Task<List<double>> StreamResumeAsync(BenchFab fab, HttpClient client, CancellationToken cancellationToken)
    {
        var newest = await fab.NewestSeqAsync(cancellationToken);
        return await Measure.TimeEachAsync(40, async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/stream");
            request.Headers.Add("Last-Event-ID", (newest - 1000).ToString(CultureInfo.InvariantCulture));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line && !line.StartsWith("data:", StringComparison.Ordinal))
            {
            }
        });
    }

    private static async Task<List<string>> ScalarsAsync(BenchFab fab, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(fab.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            values.Add(reader.GetString(0));
        return values;
    }

    /// <summary>
    /// LocalApi's own partition maintenance (<see cref="PartitionMaintenance"/>) run with the hot window ending at the end
    /// of the oldest day — its partition dropped, its settled jobs and subjobs deleted at once, as after the archive
    /// caught up — while ingest goes on; the stall is the longest time no batch was acknowledged.
    /// </summary>
    private static async Task<Figure> RetentionAsync(BenchFab fab, HttpClient client, IdLayout loadIds, TextWriter output, CancellationToken cancellationToken)
    {
        await using var load = IngestLoad.Start(client, loadIds, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(15), cancellationToken);
        var before = load.Snapshot();
        await using (var dataSource = NpgsqlDataSource.Create(fab.ConnectionString + ";Command Timeout=0"))
        {
            DateOnly oldestDay;
            await using (var oldest = dataSource.CreateCommand("""
                SELECT min(substr(c.relname, 8)::date) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'event'::regclass
                """))
                oldestDay = (DateOnly)(await oldest.ExecuteScalarAsync(cancellationToken))!;
            var end = new DateTimeOffset(oldestDay.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var maintenance = PartitionMaintenance.ForSite(dataSource, BenchFab.Site,
                new RetentionOptions { Hot = new Duration(DateTimeOffset.UtcNow - end), RequireArchive = false });
            var retention = Stopwatch.GetTimestamp();
            var result = await maintenance.RunAsync(cancellationToken);
            output.WriteLine($"LocalApi's maintenance with the window ending {end:yyyy-MM-dd HH:mm}: dropped {string.Join(", ", result.Dropped)}, " +
                $"{result.JobsRemoved:N0} jobs, {result.SubjobsRemoved:N0} subjobs and {result.KeysPruned:N0} keys in {Stopwatch.GetElapsedTime(retention).TotalSeconds:0.0} s");
        }
        // The seconds after it too: a stall that outlasts the statements shows as a gap there.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        load.ThrowIfFailed();
        var during = load.Snapshot(since: before.At);
        output.WriteLine($"ingest before:               {before.Rate,8:N0} events/s, batch p50 {before.P50:0} ms, max {before.Max:0} ms; longest gap between acks {before.LongestGap:0} ms");
        output.WriteLine($"ingest during and 5 s after: {during.Rate,8:N0} events/s, batch p50 {during.P50:0} ms, max {during.Max:0} ms; longest gap between acks {during.LongestGap:0} ms");
        return new("retention: longest ingest stall", $"{during.LongestGap / 1000:0.00} s (before: {before.LongestGap / 1000:0.00} s)", "≤ 1 s", during.LongestGap <= 1000);
    }

    /// <summary>
    /// The Archiver's windows are whole hours, closed <c>Archiver:WindowLag</c> (5 minutes) after their end: the manifest
    /// is set to say everything before the newest closed hour is archived, the Archiver is started and timed until that
    /// hour is committed too.
    /// </summary>
    private static async Task<Figure> ArchiveHourAsync(BenchFab fab, TextWriter output, CancellationToken cancellationToken)
    {
        var closed = DateTimeOffset.UtcNow.AddMinutes(-6);
        var target = new DateTimeOffset(closed.Year, closed.Month, closed.Day, closed.Hour, 0, 0, TimeSpan.Zero);
        var from = target.AddHours(-1);
        await using var connection = new NpgsqlConnection(fab.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var rewind = new NpgsqlCommand($"""
            DELETE FROM archive_window WHERE site_id = '{BenchFab.Site}';
            INSERT INTO archive_window (site_id, window_start, window_end, committed_at) VALUES ('{BenchFab.Site}', @from - interval '1 hour', @from, now());
            INSERT INTO archive_watermark (site_id, archived_through) VALUES ('{BenchFab.Site}', @from)
            ON CONFLICT (site_id) DO UPDATE SET archived_through = EXCLUDED.archived_through, updated_at = now();
            """, connection))
        {
            rewind.Parameters.AddWithValue("from", from);
            await rewind.ExecuteNonQueryAsync(cancellationToken);
        }
        var started = Stopwatch.GetTimestamp();
        await fab.App.Get<ProjectResource>($"archiver-{BenchFab.Site}").StartAgainAsync(cancellationToken);
        await using var watermark = new NpgsqlCommand($"SELECT archived_through FROM archive_watermark WHERE site_id = '{BenchFab.Site}'", connection);
        while ((DateTime)(await watermark.ExecuteScalarAsync(cancellationToken))! < target.UtcDateTime)
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(10))
                return new("archiver: an hour's window", "did not catch up in 10 min", "(context)", false);
            await Task.Delay(200, cancellationToken);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        await using var rows = new NpgsqlCommand($"SELECT row_count, bytes FROM archive_window WHERE site_id = '{BenchFab.Site}' AND window_start = @from", connection);
        rows.Parameters.AddWithValue("from", from);
        await using var reader = await rows.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (archived, bytes) = (reader.GetInt64(0), reader.GetInt64(1));
        output.WriteLine($"archived {from:HH:mm}–{target:HH:mm}: {archived:N0} rows ({bytes / 1e6:0.0} MB of Parquet) in {elapsed.TotalSeconds:0.0} s from the Archiver's start, {archived / elapsed.TotalSeconds:N0} rows/s");
        return new("archiver: an hour's window", $"{elapsed.TotalSeconds:0.0} s ({archived:N0} rows)", "(context)", null);
    }

    private sealed record Sustained(double Average, double SlowestMinute);

    private static async Task<Sustained> SustainedAsync(BenchFab fab, HttpClient client, TimeSpan duration, IdLayout loadIds, TextWriter output, CancellationToken cancellationToken)
    {
        var maintenance = await MaintenanceCountersAsync(fab, cancellationToken);
        var first = await fab.NewestSeqAsync(cancellationToken);
        var minutes = new List<double>();
        await using (var load = IngestLoad.Start(client, loadIds, cancellationToken))
        {
            var minuteStart = first;
            var started = Stopwatch.GetTimestamp();
            for (var minute = 1; minute <= Math.Max(1, (int)duration.TotalMinutes); minute++)
            {
                var (slices, minuteEnd) = await MinuteAsync(fab, load, minuteStart, cancellationToken);
                minutes.Add((minuteEnd - minuteStart) / 60.0);
                output.WriteLine($"minute {minute,2}: {minutes[^1],8:N0} events/s (10-s slices {slices.Min():N0}–{slices.Max():N0})");
                minuteStart = minuteEnd;
            }
            var total = await fab.NewestSeqAsync(cancellationToken) - first;
            var after = await MaintenanceCountersAsync(fab, cancellationToken);
            output.WriteLine($"{total:N0} events in {Stopwatch.GetElapsedTime(started).TotalMinutes:0.0} min; meanwhile {after.Checkpoints - maintenance.Checkpoints} checkpoints, {after.Autovacuums - maintenance.Autovacuums} autovacuums, {after.Autoanalyzes - maintenance.Autoanalyzes} autoanalyzes");
            // Full-page images are what random keys cost after each checkpoint: the first change to a page logs all of it.
            output.WriteLine($"WAL {(after.WalBytes - maintenance.WalBytes) / (double)total:N0} bytes per event, {(after.WalPageImages - maintenance.WalPageImages) / (double)total:0.00} full-page images per event");
        }
        return new Sustained(minutes.Average(), minutes.Min());
    }

    /// <summary>
    /// A minute of <paramref name="load"/>: the events stored per second in each 10-second slice after
    /// <paramref name="fromSeq"/>, and the newest seq at its end.
    /// </summary>
    private static async Task<(List<double> Slices, long Newest)> MinuteAsync(BenchFab fab, IngestLoad load, long fromSeq, CancellationToken cancellationToken)
    {
        var slices = new List<double>(6);
        for (var slice = 0; slice < 6; slice++)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            load.ThrowIfFailed();
            var newest = await fab.NewestSeqAsync(cancellationToken);
            slices.Add((newest - fromSeq) / 10.0);
            fromSeq = newest;
        }
        return (slices, fromSeq);
    }

    private static async Task<(long Checkpoints, long Autovacuums, long Autoanalyzes, long WalBytes, long WalPageImages)> MaintenanceCountersAsync(BenchFab fab, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(fab.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
                   (SELECT COALESCE(sum(autovacuum_count), 0)::bigint FROM pg_stat_user_tables),
                   (SELECT COALESCE(sum(autoanalyze_count), 0)::bigint FROM pg_stat_user_tables),
                   wal_bytes::bigint, wal_fpi
            FROM pg_stat_wal
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    private static async Task<List<Figure>> RestartAsync(BenchFab fab, ProjectResource localApiResource, HttpClient client, double steadyRate,
        IdLayout loadIds, TextWriter output, CancellationToken cancellationToken)
    {
        await localApiResource.StopForNowAsync();
        var restarting = Stopwatch.GetTimestamp();
        await localApiResource.StartAgainAsync(cancellationToken);
        var ready = Stopwatch.GetElapsedTime(restarting);
        output.WriteLine($"restart to ready (/health answers): {ready.TotalSeconds:0.00} s");
        List<double> slices;
        await using (var load = IngestLoad.Start(client, loadIds, cancellationToken))
            (slices, _) = await MinuteAsync(fab, load, await fab.NewestSeqAsync(cancellationToken), cancellationToken);
        output.WriteLine($"first minute after the restart, per 10 s: {string.Join(", ", slices.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))} events/s (steady: {steadyRate:N0})");
        return
        [
            new("LocalApi restart to ready", $"{ready.TotalSeconds:0.00} s", "(context)", null),
            new("first 10 s after restart", $"{slices[0]:N0} events/s ({slices[0] / steadyRate:P0} of steady)", "(context)", null),
            new("first minute after restart", $"{slices.Average():N0} events/s ({slices.Average() / steadyRate:P0} of steady)", "(context)", null),
        ];
    }

    private static IEnumerable<Figure> ResidentMemory(BenchFab fab)
    {
        foreach (var name in new[] { $"localapi-{BenchFab.Site}", $"sidecar-{BenchFab.Site}", $"archiver-{BenchFab.Site}", "central" })
        {
            var bytes = ProcessMemory.ResidentBytes(fab.App.Get<ProjectResource>(name).ProcessId);
            yield return new($"resident memory: {name}", $"{bytes / 1048576.0:0} MB", "≤ 500 MB", bytes <= 500L * 1048576);
        }
        var postgres = ProcessMemory.PostgresResidentBytes(fab.App.Get<PostgresResource>("postgres").ProcessId);
        yield return new("resident memory: PostgreSQL, all processes", $"{postgres / 1048576.0:0} MB", "(context)", null);
    }

    /// <summary>
    /// Batches posted by <see cref="Connections"/> senders until disposed, serialised on the fly by one producer (a
    /// sustained run needs more events than fit in memory pre-serialised); each acknowledgement's time and latency is kept.
    /// </summary>
    private sealed class IngestLoad : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop;
        private readonly Task running;
        private readonly List<(long At, double Millis)> acks = [];

        private IngestLoad(HttpClient client, IdLayout ids, CancellationToken cancellationToken)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var bodies = Channel.CreateBounded<byte[]>(Connections * 4);
            var producer = Task.Run(async () =>
            {
                foreach (var chunk in EventGenerator.Lots(BenchFab.Site, int.MaxValue, ids: ids).Chunk(BatchSize))
                    await bodies.Writer.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(chunk, WireJson.Options), stop.Token);
            });
            running = Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => Task.Run(async () =>
            {
                try
                {
                    await foreach (var body in bodies.Reader.ReadAllAsync(stop.Token))
                        await SendAsync(client, body);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                    await stop.CancelAsync();
                    throw;
                }
            })).Append(producer));
        }

        private Exception? failure;

        private async Task SendAsync(HttpClient client, byte[] body)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var sent = Stopwatch.GetTimestamp();
            using var response = await client.PostAsync("/v1/ingest/events:batch", content, stop.Token);
            response.EnsureSuccessStatusCode();
            var now = Stopwatch.GetTimestamp();
            // A rejected event is never stored: the rates would count it as a stall instead of an error.
            var result = await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options, stop.Token);
            if (result!.Rejected.Count > 0)
                throw new InvalidOperationException($"LocalApi rejected {result.Rejected.Count} events of a load batch: {result.Rejected[0].Error}");
            lock (acks)
                acks.Add((now, Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds));
        }

        /// <summary>Throws what stopped the load, if a batch failed or had events rejected: a measurement without it is void.</summary>
        public void ThrowIfFailed()
        {
            if (Volatile.Read(ref failure) is { } ex)
                throw new InvalidOperationException("the ingest load stopped: " + ex.Message, ex);
        }

        public static IngestLoad Start(HttpClient client, IdLayout ids, CancellationToken cancellationToken) => new(client, ids, cancellationToken);

        public sealed record Window(long At, double Rate, double P50, double Max, double LongestGap);

        /// <summary>Acknowledgements since <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp), else since the start.</summary>
        public Window Snapshot(long since = 0)
        {
            List<(long At, double Millis)> window;
            lock (acks)
                window = [.. acks.Where(a => a.At > since)];
            var now = Stopwatch.GetTimestamp();
            if (window.Count == 0)
                return new(now, 0, 0, 0, Stopwatch.GetElapsedTime(since, now).TotalMilliseconds);
            var latencies = window.Select(a => a.Millis).Order().ToList();
            var times = window.Select(a => a.At).Order().Prepend(since == 0 ? window.Min(a => a.At) : since).Append(now).ToList();
            var longestGap = times.Zip(times.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds).Max();
            var seconds = Stopwatch.GetElapsedTime(since == 0 ? times[0] : since, now).TotalSeconds;
            return new(now, window.Count * BatchSize / seconds, Measure.Percentile(latencies, 0.5), latencies[^1], longestGap);
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
            stop.Dispose();
        }
    }
}
