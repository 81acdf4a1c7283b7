using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WaferMonitor.Archiver.Archive;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;
using WaferMonitor.Archiver.Storage;

namespace WaferMonitor.Archiver.ReadBack;

public sealed record SubjobCounts(int Total, int Running, int Succeeded, int Failed, int Canceled);

/// <summary>An archived job, shaped like an item of LocalApi's <c>/v1/jobs</c>, plus when its snapshot was taken.</summary>
public sealed record ArchivedJobItem(
    Guid JobId, string SiteId, Guid AppId, string AppName, string AppVersion, string? JobKey, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationS, double? CpuUserS, double? CpuSystemS, double? MemMaxMb,
    JsonElement? Metadata, DateTimeOffset LastEventAt, SubjobCounts Subjobs, DateTimeOffset SnapshotAt);

public sealed record ArchivedSubjobItem(
    Guid SubjobId, Guid JobId, string SiteId, Guid AppId, string AppName, string? SubKey, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationS, double? CpuUserS, double? CpuSystemS, double? MemMaxMb,
    JsonElement? Metadata, DateTimeOffset LastEventAt, DateTimeOffset SnapshotAt);

public sealed record ArchivedJobPage(IReadOnlyList<ArchivedJobItem> Items, int Count, string? NextCursor);

public sealed record ArchivedJobDetail(ArchivedJobItem Job, IReadOnlyList<ArchivedSubjobItem> Subjobs);

public sealed record ArchiveJobQuery(DateTimeOffset? From, DateTimeOffset? To, string? BusinessKey, int Limit);

/// <summary>
/// Reads jobs back from the Parquet objects: only the date partitions the time range touches are listed, row groups
/// whose <c>started_at</c> statistics miss the range are skipped, and a business key is first looked up in the
/// <c>job_key</c> column alone. A job archived several times is shown as its newest snapshot.
/// </summary>
internal sealed class ArchiveReadBack(ArchiveObjectStore store, IArchiveFileFormat format, IOptions<ArchiverOptions> options, IOptions<ArchiveS3Options> s3)
{
    private string TablePrefix(string table) =>
        (s3.Value.Prefix.Length == 0 ? "" : s3.Value.Prefix + "/") + $"site={options.Value.SiteId}/table={table}/";

    public async Task<ArchivedJobPage> ListJobsAsync(ArchiveJobQuery query, CancellationToken cancellationToken)
    {
        var range = new ArchiveTimeRange("started_at", query.From, query.To);
        var keys = await KeysAsync(WindowExporter.JobTable, query.From, query.To, cancellationToken);
        var jobs = new Dictionary<Guid, ArchivedJob>();
        foreach (var key in keys)
        {
            using var file = await store.GetAsync(key, cancellationToken);
            if (query.BusinessKey is { } businessKey && !await AnyAsync(file, "job_key", range, (v, row) => v.GetString(row) == businessKey, cancellationToken))
                continue;
            file.Position = 0;
            await foreach (var job in format.ReadRowsAsync(ArchiveTables.Job, file, range, cancellationToken))
            {
                if (query.BusinessKey is null || job.JobKey == query.BusinessKey)
                    KeepNewest(jobs, job.JobId, job, j => j.SnapshotAt);
            }
        }
        var page = jobs.Values.OrderByDescending(j => j.StartedAt).ThenByDescending(j => j.JobId).Take(query.Limit).ToList();
        var counts = await SubjobCountsAsync(page.Select(j => j.JobId).ToHashSet(), page.Select(j => WindowExporter.DateOf(j.StartedAt)).ToHashSet(),
            cancellationToken);
        var items = page.Select(j => Item(j, counts.GetValueOrDefault(j.JobId, new SubjobCounts(0, 0, 0, 0, 0)))).ToList();
        return new ArchivedJobPage(items, items.Count, null);
    }

    public async Task<ArchivedJobDetail?> GetJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        ArchivedJob? newest = null;
        foreach (var key in await KeysAsync(WindowExporter.JobTable, null, null, cancellationToken))
        {
            using var file = await store.GetAsync(key, cancellationToken);
            if (!await AnyAsync(file, "job_id", null, (v, row) => v.GetUuid(row) == jobId, cancellationToken))
                continue;
            file.Position = 0;
            await foreach (var job in format.ReadRowsAsync(ArchiveTables.Job, file, null, cancellationToken))
            {
                if (job.JobId == jobId && (newest is null || job.SnapshotAt > newest.SnapshotAt))
                    newest = job;
            }
        }
        if (newest is null)
            return null;
        var subjobs = await SubjobsAsync(new HashSet<Guid> { jobId }, [WindowExporter.DateOf(newest.StartedAt)], cancellationToken);
        var items = subjobs.Values.OrderBy(s => s.StartedAt).ThenBy(s => s.SubjobId).Select(SubjobItem).ToList();
        return new ArchivedJobDetail(Item(newest, Count(subjobs.Values)), items);
    }

    private async Task<Dictionary<Guid, SubjobCounts>> SubjobCountsAsync(HashSet<Guid> jobIds, HashSet<DateOnly> dates, CancellationToken cancellationToken)
    {
        if (jobIds.Count == 0)
            return [];
        var subjobs = await SubjobsAsync(jobIds, dates, cancellationToken);
        return subjobs.Values.GroupBy(s => s.JobId).ToDictionary(g => g.Key, g => Count(g));
    }

    /// <summary>The newest snapshot of each subjob of the given jobs, from the date partitions of those jobs' starts.</summary>
    private async Task<Dictionary<Guid, ArchivedSubjob>> SubjobsAsync(IReadOnlySet<Guid> jobIds, IEnumerable<DateOnly> dates, CancellationToken cancellationToken)
    {
        var subjobs = new Dictionary<Guid, ArchivedSubjob>();
        foreach (var date in dates)
        {
            foreach (var key in await store.ListAsync(TablePrefix(WindowExporter.SubjobTable) + DatePart(date), cancellationToken))
            {
                using var file = await store.GetAsync(key, cancellationToken);
                await foreach (var subjob in format.ReadRowsAsync(ArchiveTables.Subjob, file, null, cancellationToken))
                {
                    if (jobIds.Contains(subjob.JobId))
                        KeepNewest(subjobs, subjob.SubjobId, subjob, s => s.SnapshotAt);
                }
            }
        }
        return subjobs;
    }

    /// <summary>
    /// The table's object keys: per date partition when the range is bounded on both sides, else the whole table,
    /// filtered by the date in the key.
    /// </summary>
    private async Task<List<string>> KeysAsync(string table, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var prefix = TablePrefix(table);
        DateOnly? first = from is { } f ? WindowExporter.DateOf(f) : null;
        DateOnly? last = to is { } t ? WindowExporter.DateOf(t.AddTicks(-1)) : null;
        if (first is { } a && last is { } b && b.DayNumber - a.DayNumber <= 62)
        {
            var keys = new List<string>();
            for (var date = a; date <= b; date = date.AddDays(1))
                keys.AddRange(await store.ListAsync(prefix + DatePart(date), cancellationToken));
            return keys;
        }
        return (await store.ListAsync(prefix, cancellationToken)).Where(key =>
        {
            var date = DateInKey(key);
            return date is not null && (first is null || date >= first) && (last is null || date <= last);
        }).ToList();
    }

    private static string DatePart(DateOnly date) => $"date={date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/";

    private static DateOnly? DateInKey(string key)
    {
        const string marker = "/date=";
        var at = key.IndexOf(marker, StringComparison.Ordinal);
        return at >= 0 && DateOnly.TryParseExact(key.AsSpan(at + marker.Length, Math.Min(10, key.Length - at - marker.Length)), "yyyy-MM-dd",
            CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
    }

    /// <summary>Reads one column only (projection) to decide whether a file is worth reading whole.</summary>
    private async Task<bool> AnyAsync(
        Stream file, string column, ArchiveTimeRange? range, Func<ArchiveColumnValues, int, bool> match, CancellationToken cancellationToken)
    {
        var columns = range is null ? new[] { column } : [column, range.Column];
        await foreach (var batch in format.ReadColumnsAsync(file, columns.Distinct().ToList(), range, cancellationToken))
        {
            var values = batch[column];
            for (var row = 0; row < batch.RowCount; row++)
            {
                if (match(values, row))
                    return true;
            }
        }
        return false;
    }

    private static void KeepNewest<T>(Dictionary<Guid, T> rows, Guid id, T row, Func<T, DateTimeOffset> snapshotAt)
    {
        if (!rows.TryGetValue(id, out var existing) || snapshotAt(row) > snapshotAt(existing))
            rows[id] = row;
    }

    private static SubjobCounts Count(IEnumerable<ArchivedSubjob> subjobs)
    {
        var list = subjobs.ToList();
        return new SubjobCounts(list.Count, list.Count(s => s.Status == "running"), list.Count(s => s.Status == "succeeded"),
            list.Count(s => s.Status == "failed"), list.Count(s => s.Status == "canceled"));
    }

    private static ArchivedJobItem Item(ArchivedJob j, SubjobCounts counts) => new(
        j.JobId, j.SiteId, j.AppId, j.AppName, j.AppVersion, j.JobKey, j.Status, j.StartedAt, j.EndedAt, j.DurationS, j.CpuUserS,
        j.CpuSystemS, j.MemMaxMb, Json(j.Metadata), j.LastEventAt, counts, j.SnapshotAt);

    private static ArchivedSubjobItem SubjobItem(ArchivedSubjob s) => new(
        s.SubjobId, s.JobId, s.SiteId, s.AppId, s.AppName, s.SubKey, s.Status, s.StartedAt, s.EndedAt, s.DurationS, s.CpuUserS,
        s.CpuSystemS, s.MemMaxMb, Json(s.Metadata), s.LastEventAt, s.SnapshotAt);

    private static JsonElement? Json(string? text) => text is null ? null : JsonElement.Parse(text);
}
