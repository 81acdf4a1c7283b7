using Npgsql;

namespace WaferMonitor.Archiver.Archive;

public sealed record ArchiveWindow(DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>The window's bounds in its name, so a key says which rows it holds and never collides with another window's.</summary>
    public string Id => $"{Stamp(Start)}_{Stamp(End)}";

    private static string Stamp(DateTimeOffset time) => time.UtcTicks % TimeSpan.TicksPerSecond == 0
        ? time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)
        : time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'.'ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record ArchiveObject(string Table, DateOnly Date, string Key, long Rows, long Bytes, string Sha256);

public sealed record ManifestTotals(long WindowsArchived, long BytesArchived, DateTimeOffset? ArchivedThrough);

/// <summary>
/// The manifest tables (created by LocalApi's migration 0002_archive.sql): windows planned and committed, and their
/// objects. The watermark LocalApi's retention reads is written in the same transaction that commits a window.
/// </summary>
internal sealed class ArchiveManifest(NpgsqlDataSource dataSource)
{
    public async Task<bool> SchemaReadyAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT to_regclass('archive_window') IS NOT NULL AND to_regclass('archive_object') IS NOT NULL");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<ManifestTotals> TotalsAsync(string site, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*), COALESCE(sum(bytes), 0)::bigint, max(window_end)
            FROM archive_window WHERE site_id = @site AND committed_at IS NOT NULL
            """);
        command.Parameters.AddWithValue("site", site);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ManifestTotals(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>A window planned but never committed (the process died during it): it is redone with the same bounds.</summary>
    public async Task<ArchiveWindow?> PendingAsync(string site, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT window_start, window_end FROM archive_window
            WHERE site_id = @site AND committed_at IS NULL ORDER BY window_start LIMIT 1
            """);
        command.Parameters.AddWithValue("site", site);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ArchiveWindow(reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    /// <summary>The oldest ingest or projection update still in the database: where the first window starts.</summary>
    public async Task<DateTimeOffset?> FirstActivityAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT LEAST((SELECT min(ingested_at) FROM event), (SELECT min(updated_at) FROM job), (SELECT min(updated_at) FROM subjob))
            """);
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime first ? new DateTimeOffset(first, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// The database clock, and the start of the oldest transaction still open on this database. Ingest stamps rows with
    /// its transaction's start time, so rows stamped before that moment may still be invisible to us.
    /// </summary>
    public async Task<(DateTimeOffset Now, DateTimeOffset? OldestOpen)> ClockAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT clock_timestamp(), (SELECT min(xact_start) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL)
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetFieldValue<DateTimeOffset>(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    public async Task PlanAsync(string site, ArchiveWindow window, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO archive_window (site_id, window_start, window_end) VALUES (@site, @start, @end)
            """);
        command.Parameters.AddWithValue("site", site);
        command.Parameters.AddWithValue("start", window.Start);
        command.Parameters.AddWithValue("end", window.End);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<List<string>> RecordedKeysAsync(string site, ArchiveWindow window, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT object_key FROM archive_object WHERE site_id = @site AND window_start = @start");
        command.Parameters.AddWithValue("site", site);
        command.Parameters.AddWithValue("start", window.Start);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            keys.Add(reader.GetString(0));
        return keys;
    }

    /// <summary>Replaces the window's object list before the uploads, so every key ever uploaded is in the manifest.</summary>
    public async Task RecordObjectsAsync(string site, ArchiveWindow window, IReadOnlyList<ArchiveObject> objects, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM archive_object WHERE site_id = @site AND window_start = @start", connection))
        {
            delete.Parameters.AddWithValue("site", site);
            delete.Parameters.AddWithValue("start", window.Start);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO archive_object (site_id, object_key, window_start, table_name, partition_date, row_count, bytes, sha256)
            SELECT @site, k, @start, t, d, r, b, h
            FROM unnest(@keys::text[], @tables::text[], @dates::date[], @rows::bigint[], @bytes::bigint[], @hashes::text[]) AS o(k, t, d, r, b, h)
            """, connection))
        {
            var p = insert.Parameters;
            p.AddWithValue("site", site);
            p.AddWithValue("start", window.Start);
            p.AddWithValue("keys", objects.Select(o => o.Key).ToArray());
            p.AddWithValue("tables", objects.Select(o => o.Table).ToArray());
            p.AddWithValue("dates", objects.Select(o => o.Date).ToArray());
            p.AddWithValue("rows", objects.Select(o => o.Rows).ToArray());
            p.AddWithValue("bytes", objects.Select(o => o.Bytes).ToArray());
            p.AddWithValue("hashes", objects.Select(o => o.Sha256).ToArray());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Marks the window committed and moves the watermark to its end, atomically.</summary>
    public async Task CommitAsync(string site, ArchiveWindow window, long rows, long bytes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    UPDATE archive_window SET committed_at = now(), row_count = @rows, bytes = @bytes
                    WHERE site_id = @site AND window_start = @start
                    """) { Parameters = { new("site", site), new("start", window.Start), new("rows", rows), new("bytes", bytes) } },
                new NpgsqlBatchCommand("""
                    INSERT INTO archive_watermark (site_id, archived_through, updated_at) VALUES (@site, @end, now())
                    ON CONFLICT (site_id) DO UPDATE SET archived_through = EXCLUDED.archived_through, updated_at = now()
                    """) { Parameters = { new("site", site), new("end", window.End) } },
            },
        };
        // A batch without an explicit transaction runs as one implicit transaction.
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
