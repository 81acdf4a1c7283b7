using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 6: read latencies on a large site. The data set is bulk-loaded with SQL (documented in the README): jobs spread
/// over the last 24 h across five apps (2 % running, 5 % failed, status independent of app), 25 subjobs for every 25th job, and a started and a
/// finished event per job — far faster to create than through the ingest path, and the same rows the projections hold.
/// </summary>
internal static class QueryBenchmark
{
    private const int Samples = 60;

    public static async Task RunAsync(BenchFab fab, int jobs, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"== queries on {jobs:N0} jobs ==");
        await LoadAndSettleAsync(fab, jobs, output, cancellationToken);

        using var client = fab.Client($"localapi-{BenchFab.Site}");
        var sampleIds = await SampleJobIdsAsync(fab.ConnectionString, Samples, cancellationToken);
        var deepCursor = await CursorAtDepthAsync(client, jobs / 2, cancellationToken);

        await ReportAsync(output, "100 newest jobs", client, _ => "/v1/jobs?limit=100", cancellationToken, withAverage: true);
        await ReportAsync(output, "filtered page (failed, app contains 'etch')", client, _ => "/v1/jobs?status=failed&app_name=etch&limit=100", cancellationToken);
        // The app_name filter on subjobs scanned every subjob for a name no app has (issue 19); jobs' figures are its baseline.
        await ReportAsync(output, "jobs, app contains a name no app has", client, _ => "/v1/jobs?app_name=no-such-tool&limit=100", cancellationToken);
        await ReportAsync(output, "subjobs, app contains 'etch'", client, _ => "/v1/subjobs?app_name=etch&limit=100", cancellationToken);
        await ReportAsync(output, "subjobs, app contains a name no app has", client, _ => "/v1/subjobs?app_name=no-such-tool&limit=100", cancellationToken);
        await ReportAsync(output, "subjobs, app_name of 256 characters", client, _ => $"/v1/subjobs?app_name={new string('x', 256)}&limit=100", cancellationToken);
        await ReportAsync(output, "subjobs, failed and app contains 'etch'", client, _ => "/v1/subjobs?status=failed&app_name=etch&limit=100", cancellationToken);
        await ReportAsync(output, $"deep page via cursor (~{jobs / 2:N0} rows down)", client, _ => $"/v1/jobs?limit=100&cursor={deepCursor}", cancellationToken);
        await ReportAsync(output, "job detail", client, i => $"/v1/jobs/{sampleIds[i % sampleIds.Count]}", cancellationToken);
        await ReportAsync(output, "/v1/stats over 24 h (5m buckets)", client, _ => "/v1/stats", cancellationToken);
        // Baseline: a bucket that is not a whole number of 5-minute granules is computed from the job rows.
        await ReportAsync(output, "/v1/stats over 24 h from the rows (7m buckets)", client, _ => "/v1/stats?bucket=7m", cancellationToken,
            samples: 5, warmUp: 2);
    }

    /// <summary>Bulk-loads the data set and waits until the LocalApi has folded it into the stats rollups.</summary>
    public static async Task LoadAndSettleAsync(BenchFab fab, int jobs, TextWriter output, CancellationToken cancellationToken)
    {
        var loading = Stopwatch.GetTimestamp();
        await LoadAsync(fab.ConnectionString, jobs, cancellationToken);
        output.WriteLine($"bulk-loaded in {Stopwatch.GetElapsedTime(loading).TotalSeconds:0} s");
        var folding = Stopwatch.GetTimestamp();
        await WaitForStatsRollupsAsync(fab.ConnectionString, cancellationToken);
        output.WriteLine($"stats rollups folded by the LocalApi in {Stopwatch.GetElapsedTime(folding).TotalSeconds:0.0} s");
    }

    /// <param name="warmUp">
    /// Requests before measuring: enough for .NET's tiered JIT to replace the first, unoptimised code of the path (a
    /// method is recompiled after 30 calls), so the figures are those of a service that has been running for a while.
    /// </param>
    /// <returns>The p95 in milliseconds.</returns>
    internal static async Task<double> ReportAsync(TextWriter output, string name, HttpClient client, Func<int, string> path,
        CancellationToken cancellationToken, bool withAverage = false, int samples = Samples, int warmUp = 50)
    {
        for (var i = 0; i < warmUp; i++)
            (await client.GetAsync(path(i), cancellationToken)).EnsureSuccessStatusCode();
        // Tier-1 code is compiled in the background after a short delay.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var millis = await Measure.TimeEachAsync(samples, async i =>
        {
            using var response = await client.GetAsync(path(i), cancellationToken);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
        });
        var average = millis.Average();
        output.WriteLine($"{name,-50} {Measure.Summary(millis)}" + (withAverage ? $"  avg {average:0.00} ms" : ""));
        return Measure.Percentile(millis, 0.95);
    }

    private static async Task<string> CursorAtDepthAsync(HttpClient client, int depth, CancellationToken cancellationToken)
    {
        string? cursor = null;
        for (var walked = 0; walked < depth; walked += 10_000)
        {
            var page = await client.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=10000" + (cursor is null ? "" : $"&cursor={cursor}"), cancellationToken);
            cursor = page.GetProperty("next_cursor").GetString() ?? cursor;
        }
        return cursor!;
    }

    private static async Task<List<Guid>> SampleJobIdsAsync(string connectionString, int count, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT job_id FROM job TABLESAMPLE SYSTEM (1) LIMIT {count}", connection);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>
    /// The bulk load marks every granule changed; the LocalApi folds them in the background. Then VACUUM what was loaded,
    /// as autovacuum would soon after such an insert — done here instead of competing with the measurements — so
    /// index-only scans (running jobs) see an up-to-date visibility map, and CHECKPOINT.
    /// </summary>
    internal static async Task WaitForStatsRollupsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Command Timeout=0");
        await connection.OpenAsync(cancellationToken);
        await using var pending = new NpgsqlCommand("SELECT EXISTS (SELECT FROM job_stats_dirty)", connection);
        while ((bool)(await pending.ExecuteScalarAsync(cancellationToken))!)
            await Task.Delay(200, cancellationToken);
        await using var vacuum = new NpgsqlCommand("VACUUM ANALYZE app, job, subjob, event, job_stats_count, job_stats_bin", connection);
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
        // The load dirtied gigabytes of buffers; write them now rather than under the measurements.
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
        await checkpoint.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task LoadAsync(string connectionString, int jobs, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Command Timeout=0");
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($$"""
            INSERT INTO app (app_id, name, version)
            SELECT ('00000000-0000-4000-8000-00000000000' || a)::uuid, n, '1.0.0'
            FROM unnest(ARRAY['litho-expose', 'etch-plasma', 'cvd-deposit', 'cmp-polish', 'metrology-ocd']) WITH ORDINALITY AS t(n, a)
            ON CONFLICT DO NOTHING;

            CREATE TEMP TABLE bench_job AS
            SELECT gen_random_uuid() AS job_id, g,
                   ('00000000-0000-4000-8000-00000000000' || (g % 5 + 1))::uuid AS app_id,
                   (ARRAY['litho-expose', 'etch-plasma', 'cvd-deposit', 'cmp-polish', 'metrology-ocd'])[g % 5 + 1] AS app_name,
                   now() - interval '24 hours' + g * (interval '24 hours' / {{jobs}}) AS started
            FROM generate_series(1, {{jobs}}) g;

            INSERT INTO job (job_id, site_id, app_id, app_name, app_version, job_key, first_started_at, first_any_at,
                             winner_at, winner_key, winner_status, winner_duration_s, cpu_user_s, cpu_system_s, mem_max_mb,
                             metadata, metadata_stamps, last_event_at)
            SELECT job_id, 'bench', app_id, app_name, '1.0.0', 'lot-' || g, started, started,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE started + interval '80 seconds' END,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 'end-' || g END,
                   CASE WHEN g % 50 = 0 THEN NULL WHEN (g / 7) % 20 = 0 THEN 'failed' ELSE 'succeeded' END,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 60 + g % 40 END,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 1 + (g % 10) * 0.1 END,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 0.1 END,
                   256 + g % 512, '{"recipe": "R-12"}', NULL,
                   CASE WHEN g % 50 = 0 THEN started ELSE started + interval '80 seconds' END
            FROM bench_job ORDER BY g;

            INSERT INTO subjob (subjob_id, job_id, site_id, app_id, app_name, app_version, sub_key, first_started_at, first_any_at,
                                winner_at, winner_key, winner_status, winner_duration_s, mem_max_mb, last_event_at)
            SELECT gen_random_uuid(), job_id, 'bench', app_id, app_name, '1.0.0', 'wafer-' || lpad(w::text, 2, '0'),
                   started + w * interval '3 seconds', started + w * interval '3 seconds',
                   started + w * interval '3 seconds' + interval '3 seconds', 'w-' || g || '-' || w, 'succeeded', 3, 512,
                   started + w * interval '3 seconds' + interval '3 seconds'
            FROM bench_job, generate_series(1, 25) w WHERE g % 25 = 0;

            INSERT INTO event (ingested_at, idempotency_key, site_id, app_id, entity_type, entity_id, parent_id, kind, at, status, payload)
            SELECT now(), 'e-' || g || '-' || k, 'bench', app_id, 'job', job_id, NULL, k, at, s,
                   jsonb_build_object('idempotency_key', 'e-' || g || '-' || k, 'site_id', 'bench',
                       'app', jsonb_build_object('app_id', app_id, 'name', app_name, 'version', '1.0.0'),
                       'entity', jsonb_build_object('type', 'job', 'id', job_id, 'parent_id', NULL, 'business_key', 'lot-' || g, 'sub_key', NULL),
                       'event', jsonb_build_object('kind', k, 'at', at, 'status', s, 'metrics', '{}'::jsonb, 'metadata', NULL))
            FROM bench_job,
                 LATERAL (VALUES ('started', started, 'running'), ('finished', started + interval '80 seconds', 'succeeded')) v(k, at, s);
            """, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
