using System.Globalization;
using CsvHelper;

namespace WaferMonitor.LocalApi.Queries;

/// <summary>
/// <c>format=csv</c> of <c>/v1/jobs</c> and <c>/v1/subjobs</c>: every row matching the filters, newest stored first,
/// streamed page by page (pages of <c>limit</c> rows, resuming at <c>cursor</c> when given) so a large export never
/// sits in memory.
/// </summary>
internal static class CsvExport
{
    private static readonly string[] JobHeader =
    [
        "job_id", "site_id", "app_id", "app_name", "app_version", "job_key", "status", "started_at", "ended_at", "duration_s",
        "cpu_user_s", "cpu_system_s", "mem_max_mb", "last_event_at", "subjobs_total", "subjobs_running", "subjobs_succeeded",
        "subjobs_failed", "subjobs_canceled", "stored_at", "metadata",
    ];

    private static readonly string[] SubjobHeader =
    [
        "subjob_id", "job_id", "site_id", "app_id", "app_name", "app_version", "sub_key", "status", "started_at", "ended_at",
        "duration_s", "cpu_user_s", "cpu_system_s", "mem_max_mb", "last_event_at", "stored_at", "metadata",
    ];

    // A spreadsheet would run an app name or business key starting with '=' as a formula: such fields get a leading quote.
    private static readonly CsvWriterOptions Options = new() { Injection = CsvInjection.Escape, WriteByteOrderMark = false };

    public static IResult Jobs(JobQueries queries, ListQuery query, CancellationToken cancellationToken) =>
        Stream("jobs.csv", JobHeader, query, cancellationToken, queries.ListJobsAsync, static job =>
        [
            Text(job.JobId), job.SiteId, Text(job.AppId), job.AppName, job.AppVersion, job.JobKey, job.Status, Text(job.StartedAt),
            Text(job.EndedAt), Text(job.DurationS), Text(job.CpuUserS), Text(job.CpuSystemS), Text(job.MemMaxMb), Text(job.LastEventAt),
            Text(job.Subjobs.Total), Text(job.Subjobs.Running), Text(job.Subjobs.Succeeded), Text(job.Subjobs.Failed),
            Text(job.Subjobs.Canceled), Text(job.StoredAt), job.Metadata?.GetRawText(),
        ]);

    public static IResult Subjobs(JobQueries queries, ListQuery query, CancellationToken cancellationToken) =>
        Stream("subjobs.csv", SubjobHeader, query, cancellationToken, queries.ListSubjobsAsync, static subjob =>
        [
            Text(subjob.SubjobId), Text(subjob.JobId), subjob.SiteId, Text(subjob.AppId), subjob.AppName, subjob.AppVersion, subjob.SubKey,
            subjob.Status, Text(subjob.StartedAt), Text(subjob.EndedAt), Text(subjob.DurationS), Text(subjob.CpuUserS),
            Text(subjob.CpuSystemS), Text(subjob.MemMaxMb), Text(subjob.LastEventAt), Text(subjob.StoredAt), subjob.Metadata?.GetRawText(),
        ]);

    private static IResult Stream<T>(
        string fileName, string[] header, ListQuery query, CancellationToken cancellationToken, Func<ListQuery, CancellationToken, Task<Page<T>>> listPage,
        Func<T, string?[]> fields) =>
        TypedResults.Stream(async body =>
        {
            await using var csv = CsvWriter.Create(body, Options, leaveOpen: true);
            await csv.WriteRecordAsync(header, cancellationToken);
            var page = query;
            while (true)
            {
                var rows = await listPage(page, cancellationToken);
                foreach (var row in rows.Items)
                    await csv.WriteRecordAsync(fields(row), cancellationToken);
                await csv.FlushAsync(cancellationToken);
                if (rows.NextCursor is null)
                    break;
                page = page with { Before = Cursor.Decode(rows.NextCursor) };
            }
        }, "text/csv; charset=utf-8", fileName);

    private static string Text(Guid value) => value.ToString();
    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
    private static string? Text(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);
    private static string? Text(DateTimeOffset? value) => value?.ToString("O", CultureInfo.InvariantCulture);
}
