namespace WaferMonitor.Sdk.Contracts;

/// <summary>Response of <c>POST /v1/ingest/events:batch</c> (DESIGN.md §4.2).</summary>
public sealed record BatchIngestResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

public sealed record RejectedEvent(int Index, string Code, string Error);

/// <summary>Response of <c>POST /v1/ingest/events</c>.</summary>
public sealed record SingleIngestResult(string Status, string IdempotencyKey);

public static class RejectionCodes
{
    public const string Invalid = "invalid";
    public const string FutureSkew = "future_skew";
    public const string WrongSite = "wrong_site";
}
