namespace WaferMonitor.Sdk.Contracts;

/// <summary>
/// Response of <c>POST /v1/ingest/events:batch</c> (DESIGN.md §4.2): the fields the Sidecar and LocalApi both answer,
/// each beside v2's own (<c>ok</c> and counts), which this record ignores when reading.
/// </summary>
public sealed record BatchIngestResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string Code, string Error);

public static class RejectionCodes
{
    public const string Invalid = "invalid";
    public const string FutureSkew = "future_skew";
    public const string WrongSite = "wrong_site";
}
