using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Builds a full-size site straight in its database (bulk SQL, not through the API): lots of 25 wafers spread evenly over
/// the hot window, each wafer started and finished with metrics (every third also a progress event), a few per cent of
/// lots failed and about one in a hundred never finished, random UUIDs for ids and idempotency keys as v2 sends them,
/// and idempotency keys for the dedupe window beyond the hot one. Indexes and keys are dropped for the load and built
/// again after it, as a restore would; the job and subjob rows are those ingest would have written for these events.
/// </summary>
internal static class ScaleSite
{
    public const int WafersPerLot = 25;

    /// <summary>Job started and finished, 25 wafers started and finished, every third wafer one progress event.</summary>
    public const int EventsPerLot = 2 + WafersPerLot * 2 + WafersPerLot / 3;

    private static readonly string[] Apps = ["litho-expose", "etch-plasma", "cvd-deposit", "cmp-polish", "metrology-ocd"];

    public static async Task BuildAsync(string connectionString, int lots, TimeSpan hotWindow, TimeSpan dedupeWindow, TextWriter output,
        CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString + ";Command Timeout=0;Options=-c synchronous_commit=off -c maintenance_work_mem=512MB");
        var now = DateTimeOffset.UtcNow;
        var from = now - hotWindow;
        await CreatePartitionsAsync(dataSource, DateOnly.FromDateTime(from.UtcDateTime), DateOnly.FromDateTime(now.UtcDateTime).AddDays(1), cancellationToken);
        await ExecuteAsync(dataSource, $"""
            INSERT INTO app (app_id, name, version)
            SELECT ('00000000-0000-4000-8000-00000000000' || a)::uuid, n, '3.1.0'
            FROM unnest(ARRAY['{string.Join("','", Apps)}']) WITH ORDINALITY AS t(n, a)
            ON CONFLICT DO NOTHING
            """, cancellationToken);

        var indexes = await DropIndexesAsync(dataSource, cancellationToken);
        const int Chunks = 24;
        var started = Stopwatch.GetTimestamp();
        // The load is CPU-bound in PostgreSQL (UUIDs, JSON payloads): one connection per core.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, Chunks), parallel, async (chunk, token) =>
        {
            var first = (long)lots * chunk / Chunks + 1;
            var last = (long)lots * (chunk + 1) / Chunks;
            await LoadLotsAsync(dataSource, first, last, lots, from, hotWindow, token);
            output.WriteLine($"  lots {first:N0}–{last:N0} of {lots:N0} loaded ({Stopwatch.GetElapsedTime(started).TotalSeconds:0} s)");
        });
        var olderKeys = (long)(lots * (long)EventsPerLot * ((dedupeWindow - hotWindow) / hotWindow));
        if (olderKeys > 0)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Chunks), parallel, (chunk, token) => new ValueTask(ExecuteAsync(dataSource, $"""
                INSERT INTO event_key (key_id, ingested_at)
                SELECT gen_random_uuid(), @from - (@span * g / {olderKeys})
                FROM generate_series({olderKeys * chunk / Chunks + 1}, {olderKeys * (chunk + 1) / Chunks}) g
                """, token, ("from", from), ("span", dedupeWindow - hotWindow))));
            output.WriteLine($"  {olderKeys:N0} idempotency keys of the dedupe window beyond the hot one ({Stopwatch.GetElapsedTime(started).TotalSeconds:0} s)");
        }
        // Largest tables first (the statements come in that order), so that the last ones to start are short.
        await Parallel.ForEachAsync(indexes, parallel, (definition, token) => new ValueTask(ExecuteAsync(dataSource, definition, token)));
        output.WriteLine($"  {indexes.Count} indexes and keys built again ({Stopwatch.GetElapsedTime(started).TotalSeconds:0} s)");
        await Parallel.ForEachAsync(["event", "event_key", "subjob", "job", "app"], parallel,
            (table, token) => new ValueTask(ExecuteAsync(dataSource, $"VACUUM ANALYZE {table}", token)));
        await ExecuteAsync(dataSource, "CHECKPOINT", cancellationToken);
        output.WriteLine($"  vacuumed, analysed, checkpointed ({Stopwatch.GetElapsedTime(started).TotalSeconds:0} s)");
    }

    /// <summary>Daily partitions, named and bounded as LocalApi's partition maintenance creates them.</summary>
    private static async Task CreatePartitionsAsync(NpgsqlDataSource dataSource, DateOnly first, DateOnly last, CancellationToken cancellationToken)
    {
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            await ExecuteAsync(dataSource, $"""
                CREATE TABLE IF NOT EXISTS event_p{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)} PARTITION OF event
                FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')
                """, cancellationToken);
        }
    }

    /// <summary>
    /// Drops the indexes and key constraints of the site's big tables and answers the statements that make them again:
    /// building a B-tree from sorted input after the load is many times faster than inserting random UUIDs into it.
    /// </summary>
    private static async Task<List<string>> DropIndexesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var indexes = new List<(string Drop, string Create)>();
        await using (var command = dataSource.CreateCommand("""
            SELECT CASE WHEN c.conname IS NULL THEN 'DROP INDEX ' || i.indexrelid::regclass::text
                        ELSE 'ALTER TABLE ' || t.relname || ' DROP CONSTRAINT ' || c.conname END,
                   CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid)
                        ELSE 'ALTER TABLE ' || t.relname || ' ADD CONSTRAINT ' || c.conname || ' ' || pg_get_constraintdef(c.oid) END
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
            WHERE t.relname IN ('event', 'job', 'subjob', 'event_key') AND t.relnamespace = 'public'::regnamespace
            ORDER BY array_position(ARRAY['event_key', 'event', 'subjob', 'job'], t.relname::text), c.conname IS NULL
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                indexes.Add((reader.GetString(0), reader.GetString(1)));
        }
        foreach (var (drop, _) in indexes)
            await ExecuteAsync(dataSource, drop, cancellationToken);
        // A partitioned table's index reads "ON ONLY event", which would build no partition's index.
        return [.. indexes.Select(d => d.Create.Replace(" ON ONLY ", " ON ", StringComparison.Ordinal))];
    }

    private static Task LoadLotsAsync(NpgsqlDataSource dataSource, long first, long last, int lots, DateTimeOffset from, TimeSpan hotWindow,
        CancellationToken cancellationToken) => ExecuteAsync(dataSource, $$"""
        CREATE TEMP TABLE scale_lot ON COMMIT DROP AS
        SELECT g, gen_random_uuid() AS job_id,
               ('00000000-0000-4000-8000-00000000000' || (g % 5 + 1))::uuid AS app_id,
               (ARRAY['{{string.Join("','", Apps)}}'])[g % 5 + 1] AS app_name,
               @from + @span * g / {{lots}} AS started,
               g % 100 = 0 AS hung,
               (g / 7) % 30 = 0 AS failed
        FROM generate_series({{first}}, {{last}}) g;

        CREATE TEMP TABLE scale_wafer ON COMMIT DROP AS
        SELECT l.*, w, gen_random_uuid() AS subjob_id, l.started + w * interval '60 seconds' AS wafer_started,
               l.started + w * interval '60 seconds' + interval '50 seconds' AS wafer_ended
        FROM scale_lot l, generate_series(1, {{WafersPerLot}}) w;

        -- Every event of the chunk, in the shape LocalApi stores it (ingested when it happened, payload = the v2 event).
        CREATE TEMP TABLE scale_event ON COMMIT DROP AS
        SELECT gen_random_uuid()::text AS idempotency_key, app_id, app_name, g, entity_type, entity_id, parent_id, kind, at, status, sub_key, metrics,
               metadata
        FROM (
            SELECT app_id, app_name, g, 'job' AS entity_type, job_id AS entity_id, NULL::uuid AS parent_id, 'started' AS kind,
                   started AS at, 'running' AS status, NULL AS sub_key, NULL::jsonb AS metrics, '{"recipe": "R-12", "tool": "litho-07"}'::jsonb AS metadata
            FROM scale_lot
            UNION ALL
            SELECT app_id, app_name, g, 'job', job_id, NULL, CASE WHEN failed THEN 'error' ELSE 'finished' END,
                   started + interval '26 minutes', CASE WHEN failed THEN 'failed' ELSE 'succeeded' END, NULL,
                   jsonb_build_object('duration_s', 1560, 'mem_max_mb', 640),
                   CASE WHEN failed THEN jsonb_build_object('error_type', 'EndpointNotReached', 'error', 'endpoint not detected on chamber ' || (g % 4 + 1)) END
            FROM scale_lot WHERE NOT hung
            UNION ALL
            SELECT app_id, app_name, g, 'subjob', subjob_id, job_id, 'started', wafer_started, 'running', 'wafer-' || lpad(w::text, 2, '0'), NULL, NULL
            FROM scale_wafer
            UNION ALL
            SELECT app_id, app_name, g, 'subjob', subjob_id, job_id, 'progress', wafer_started + interval '25 seconds', 'running',
                   'wafer-' || lpad(w::text, 2, '0'), jsonb_build_object('chuck_temp_c', 61.5), NULL
            FROM scale_wafer WHERE w % 3 = 0
            UNION ALL
            SELECT app_id, app_name, g, 'subjob', subjob_id, job_id, 'finished', wafer_ended, 'succeeded', 'wafer-' || lpad(w::text, 2, '0'),
                   jsonb_build_object('duration_s', 50, 'cpu_user_s', 1.1 + (w % 5) * 0.1, 'cpu_system_s', 0.1, 'mem_max_mb', 512 + w), NULL
            FROM scale_wafer WHERE NOT hung OR w < {{WafersPerLot / 2}}
        ) e
        WHERE at < now();

        INSERT INTO event (ingested_at, idempotency_key, site_id, app_id, entity_type, entity_id, parent_id, kind, at, status, payload)
        SELECT at, idempotency_key, 'bench', app_id, entity_type, entity_id, parent_id, kind, at, status,
               jsonb_build_object('idempotency_key', idempotency_key, 'site_id', 'bench',
                   'app', jsonb_build_object('app_id', app_id, 'name', app_name, 'version', '3.1.0'),
                   'entity', jsonb_build_object('type', entity_type, 'id', entity_id, 'parent_id', parent_id,
                       'business_key', CASE WHEN entity_type = 'job' THEN 'LOT-' || lpad(g::text, 7, '0') END, 'sub_key', sub_key),
                   'event', jsonb_strip_nulls(jsonb_build_object('kind', kind, 'at', at, 'status', status, 'metrics', metrics, 'metadata', metadata)))
        FROM scale_event ORDER BY at;

        INSERT INTO event_key (key_id, ingested_at) SELECT idempotency_key::uuid, at FROM scale_event;

        -- Stored and last updated when their events arrived, as ingest would have stamped them (the Archiver and retention
        -- select rows by these times).
        INSERT INTO job (job_id, site_id, app_id, app_name, app_version, job_key, first_started_at, first_any_at,
                         winner_at, winner_key, winner_status, winner_duration_s, mem_max_mb, metadata, metadata_stamps, last_event_at,
                         first_stored_at, updated_at)
        SELECT job_id, 'bench', app_id, app_name, '3.1.0', job_key, started, started, winner_at, winner_key, winner_status, 1560, 640,
               metadata, NULL, last_event_at, started, last_event_at
        FROM (
            SELECT l.job_id, l.app_id, l.app_name, 'LOT-' || lpad(l.g::text, 7, '0') AS job_key, l.started,
                   e.at AS winner_at, e.idempotency_key AS winner_key, e.status AS winner_status,
                   '{"recipe": "R-12", "tool": "litho-07"}'::jsonb || COALESCE(e.metadata, '{}'::jsonb) AS metadata,
                   COALESCE(e.at, LEAST(l.started + {{WafersPerLot}} * interval '60 seconds', now())) AS last_event_at
            FROM scale_lot l
            LEFT JOIN scale_event e ON e.entity_id = l.job_id AND e.kind IN ('finished', 'error')) j;

        INSERT INTO subjob (subjob_id, job_id, site_id, app_id, app_name, app_version, sub_key, first_started_at, first_any_at,
                            winner_at, winner_key, winner_status, winner_duration_s, cpu_user_s, cpu_system_s, mem_max_mb, last_event_at,
                            first_stored_at, updated_at)
        SELECT w.subjob_id, w.job_id, 'bench', w.app_id, w.app_name, '3.1.0', 'wafer-' || lpad(w.w::text, 2, '0'), w.wafer_started, w.wafer_started,
               e.at, e.idempotency_key, e.status, 50, 1.1 + (w.w % 5) * 0.1, 0.1, 512 + w.w,
               LEAST(COALESCE(e.at, w.wafer_started + interval '25 seconds'), now()), w.wafer_started,
               LEAST(COALESCE(e.at, w.wafer_started + interval '25 seconds'), now())
        FROM scale_wafer w
        LEFT JOIN scale_event e ON e.entity_id = w.subjob_id AND e.kind = 'finished'
        WHERE w.wafer_started < now();
        """, cancellationToken, ("from", from), ("span", hotWindow));

    /// <summary>Runs <paramref name="sql"/>; several statements run as one transaction (the chunk's temporary tables drop at its commit).</summary>
    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
