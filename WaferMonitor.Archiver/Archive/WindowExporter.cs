using System.Data;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Archiver.Archive;

public sealed record ExportedFile(ArchiveObject Object, string Path);

/// <summary>
/// Reads one window from the database in a single snapshot and writes one Parquet file per (table, date) to a local
/// directory: the window's events (dated by <c>at</c>), and snapshots of the jobs and subjobs that settled in it.
/// </summary>
internal sealed class WindowExporter(NpgsqlDataSource dataSource, IArchiveFileFormat format, IOptions<ArchiverOptions> options, IOptions<ArchiveS3Options> s3)
{
    public const string EventTable = "event";
    public const string JobTable = "job";
    public const string SubjobTable = "subjob";

    private const string EventSql = """
        SELECT seq, ingested_at, idempotency_key, site_id, app_id, payload->'app'->>'name', payload->'app'->>'version',
               entity_type, entity_id, parent_id, payload->'entity'->>'business_key', payload->'entity'->>'sub_key',
               kind, at, status, NULLIF(payload->'event'->'metrics', 'null'::jsonb)::text, NULLIF(payload->'event'->'metadata', 'null'::jsonb)::text
        FROM event WHERE ingested_at >= @start AND ingested_at < @end ORDER BY seq
        """;

    // A row settles when it turns terminal (its last update) or, while running, once it has been quiet for the hot
    // window; a row changed again after its snapshot settles again later and gets a newer snapshot.
    private const string Settled = """
        ((t.status <> 'running' AND t.updated_at >= @start AND t.updated_at < @end)
         OR (t.status = 'running' AND GREATEST(t.updated_at, t.last_event_at + @hot) >= @start AND GREATEST(t.updated_at, t.last_event_at + @hot) < @end))
        """;

    private const string JobSql = $"""
        SELECT t.job_id, t.site_id, t.app_id, t.app_name, t.app_version, t.job_key, t.status, t.started_at, t.ended_at,
               t.duration_s, t.cpu_user_s, t.cpu_system_s, t.mem_max_mb, t.metadata::text, t.last_event_at
        FROM job t WHERE {Settled} ORDER BY t.started_at, t.job_id
        """;

    // Subjobs are filed under their job's start date (their own when the job is not there), so reading a job's date
    // partition finds its wafers too.
    private const string SubjobSql = $"""
        SELECT t.subjob_id, t.job_id, t.site_id, t.app_id, t.app_name, t.sub_key, t.status, t.started_at, t.ended_at,
               t.duration_s, t.cpu_user_s, t.cpu_system_s, t.mem_max_mb, t.metadata::text, t.last_event_at,
               COALESCE(j.started_at, t.started_at)
        FROM subjob t LEFT JOIN job j ON j.job_id = t.job_id WHERE {Settled} ORDER BY t.job_id, t.started_at, t.subjob_id
        """;

    public static string Key(string prefix, string site, string table, DateOnly date, ArchiveWindow window, string extension) =>
        (prefix.Length == 0 ? "" : prefix + "/")
        + $"site={site}/table={table}/date={date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/{window.Id}{extension}";

    public static DateOnly DateOf(DateTimeOffset time) => DateOnly.FromDateTime(time.UtcDateTime);

    public async Task<List<ExportedFile>> ExportAsync(ArchiveWindow window, string directory, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the three tables, so a job's snapshot agrees with the events archived beside it.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var files = new List<ExportedFile>();
        files.AddRange(await WriteAsync(connection, EventSql, window, directory, ArchiveTables.Event, EventTable,
            r =>
            {
                var at = r.GetFieldValue<DateTimeOffset>(13);
                return (new ArchivedEvent(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), r.GetGuid(4),
                    r.GetString(5), r.GetString(6), r.GetString(7), r.GetGuid(8), NullableGuid(r, 9), NullableString(r, 10),
                    NullableString(r, 11), r.GetString(12), at, NullableString(r, 14), NullableString(r, 15), NullableString(r, 16)), DateOf(at));
            }, cancellationToken));
        files.AddRange(await WriteAsync(connection, JobSql, window, directory, ArchiveTables.Job, JobTable,
            r =>
            {
                var startedAt = r.GetFieldValue<DateTimeOffset>(7);
                return (new ArchivedJob(r.GetGuid(0), r.GetString(1), r.GetGuid(2), r.GetString(3), r.GetString(4), NullableString(r, 5),
                    r.GetString(6), startedAt, NullableTime(r, 8), NullableDouble(r, 9), NullableDouble(r, 10), NullableDouble(r, 11),
                    NullableDouble(r, 12), NullableString(r, 13), r.GetFieldValue<DateTimeOffset>(14), window.End), DateOf(startedAt));
            }, cancellationToken));
        files.AddRange(await WriteAsync(connection, SubjobSql, window, directory, ArchiveTables.Subjob, SubjobTable,
            r => (new ArchivedSubjob(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), NullableString(r, 5),
                r.GetString(6), r.GetFieldValue<DateTimeOffset>(7), NullableTime(r, 8), NullableDouble(r, 9), NullableDouble(r, 10),
                NullableDouble(r, 11), NullableDouble(r, 12), NullableString(r, 13), r.GetFieldValue<DateTimeOffset>(14), window.End),
                DateOf(r.GetFieldValue<DateTimeOffset>(15))), cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return files;
    }

    private async Task<List<ExportedFile>> WriteAsync<TRow>(
        NpgsqlConnection connection, string sql, ArchiveWindow window, string directory, ArchiveTable<TRow> table, string tableName,
        Func<NpgsqlDataReader, (TRow Row, DateOnly Date)> read, CancellationToken cancellationToken)
    {
        var open = new SortedDictionary<DateOnly, (FileStream Stream, IArchiveFileWriter<TRow> Writer, string Path)>();
        try
        {
            await using (var command = new NpgsqlCommand(sql, connection))
            {
                command.Parameters.AddWithValue("start", window.Start);
                command.Parameters.AddWithValue("end", window.End);
                command.Parameters.AddWithValue("hot", options.Value.HotWindow.Value);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    // Each row with the date it is filed under, read from the same row: nothing per row outlives it.
                    var (row, date) = read(reader);
                    if (!open.TryGetValue(date, out var file))
                    {
                        var path = Path.Combine(directory, $"{tableName}-{date:yyyyMMdd}{format.FileExtension}");
                        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true);
                        file = (stream, format.CreateWriter(table, stream), path);
                        open[date] = file;
                    }
                    await file.Writer.WriteAsync(row, cancellationToken);
                }
            }
            var exported = new List<ExportedFile>(open.Count);
            foreach (var (date, file) in open)
            {
                await file.Writer.CompleteAsync(cancellationToken);
                await file.Stream.FlushAsync(cancellationToken);
                file.Stream.Position = 0;
                var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file.Stream, cancellationToken));
                var key = Key(s3.Value.Prefix, options.Value.SiteId, tableName, date, window, format.FileExtension);
                exported.Add(new ExportedFile(new ArchiveObject(tableName, date, key, file.Writer.RowCount, file.Stream.Length, hash), file.Path));
            }
            return exported;
        }
        finally
        {
            foreach (var file in open.Values)
            {
                file.Writer.Dispose();
                await file.Stream.DisposeAsync();
            }
        }
    }

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static Guid? NullableGuid(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetGuid(i);
    private static double? NullableDouble(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
    private static DateTimeOffset? NullableTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);
}
