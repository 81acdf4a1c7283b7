using System.Text.Json;

namespace WaferMonitor.LocalApi.Queries;

public sealed record SubjobCounts(int Total, int Running, int Succeeded, int Failed, int Canceled);

/// <summary>
/// A job row as the read API returns it (DESIGN.md §4.5). <c>StoredAt</c> (when the row was first stored) and
/// <c>Cursor</c> (resumes a listing right after this row) let CentralApi merge several sites' pages.
/// </summary>
public sealed record JobItem(
    Guid JobId, string SiteId, Guid AppId, string AppName, string AppVersion, string? JobKey, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationS, double? CpuUserS, double? CpuSystemS, double? MemMaxMb,
    JsonElement? Metadata, DateTimeOffset LastEventAt, SubjobCounts Subjobs, DateTimeOffset StoredAt, string Cursor);

public sealed record SubjobItem(
    Guid SubjobId, Guid JobId, string SiteId, Guid AppId, string AppName, string AppVersion, string? SubKey, string Status,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationS, double? CpuUserS, double? CpuSystemS, double? MemMaxMb,
    JsonElement? Metadata, DateTimeOffset LastEventAt, DateTimeOffset StoredAt, string Cursor);

public sealed record Page<T>(IReadOnlyList<T> Items, int Count, string? NextCursor)
{
    /// <summary>v2's <c>duration_s</c>: seconds the query took, set by the endpoint.</summary>
    public double DurationS { get; init; }
}

public sealed record JobDetail(JobItem Job, IReadOnlyList<SubjobItem> Subjobs, IReadOnlyList<JsonElement> Events);
