namespace WaferMonitor.LocalApi.Errors;

/// <summary>A group's new/regressed/ongoing state over the asked range: new wins over regressed.</summary>
public static class ErrorGroupStatuses
{
    public const string New = "new";
    public const string Regressed = "regressed";
    public const string Ongoing = "ongoing";
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { New, Regressed, Ongoing };

    public static string Of(bool isNew, bool regressed) => isNew ? New : regressed ? Regressed : Ongoing;
}

/// <summary>Occurrences per clock hour: <c>Counts[i]</c> is the hour starting <c>Start + i h</c>.</summary>
public sealed record HourlyCounts(DateTimeOffset Start, IReadOnlyList<long> Counts);

/// <summary>How many lots (or wafers) a group touched in the range, and a few of their keys.</summary>
public sealed record Affected(long Total, IReadOnlyList<string> Examples);

/// <summary>
/// One error group over a range. <c>FirstSeen</c> is the earliest occurrence still kept (Errors:Retention), so <c>New</c>
/// means first seen within the range; <c>Regressed</c> means seen in the range after a quiet period of Errors:RegressionAfter.
/// </summary>
public sealed record ErrorGroup(
    string Fingerprint, string Title, string App, string? ErrorType, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    bool New, bool Regressed, string Status, HourlyCounts Hourly, Affected Lots, Affected Wafers, IReadOnlyDictionary<string, long> Sites);

public sealed record ErrorGroupList(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ErrorGroup> Items, int Count)
{
    public double DurationS { get; init; }
}

/// <summary>One failing event of a group; <c>Cursor</c> resumes the listing right after it.</summary>
public sealed record ErrorOccurrenceItem(
    string Fingerprint, string Title, string? ErrorType, string? Message, string SiteId, string App, DateTimeOffset At,
    string EntityType, Guid EntityId, Guid JobId, string? BusinessKey, string? SubKey, DateTimeOffset StoredAt, string Cursor);
