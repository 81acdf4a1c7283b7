namespace WaferMonitor.Sdk.Contracts;

/// <summary>
/// The reserved app the synthetic checks report as (docs/observability.md#synthetic-checks). Its jobs go the whole way a
/// real job goes, and every listing, statistic, export, error group and alert rule leaves them out unless asked for
/// with <c>include_synthetic=true</c>.
/// </summary>
public static class SyntheticChecks
{
    public const string CanaryApp = "wafermonitor.canary";

    /// <summary>The query parameter that brings synthetic jobs back into an answer.</summary>
    public const string IncludeParameter = "include_synthetic";
}

/// <summary>
/// One synthetic check as the Sidecar that ran it reports it to its LocalApi (<c>POST /v1/synthetic/results</c>): when its
/// events were posted, when the Sidecar acknowledged them, when the job was first visible in a LocalApi query, and why
/// it failed if it did. Reported (again) until LocalApi acknowledges, so checks that failed while LocalApi was away are
/// recorded once it is back.
/// </summary>
public sealed record SyntheticCheckResult(
    Guid CheckId, string Node, DateTimeOffset StartedAt, DateTimeOffset? AckedAt, DateTimeOffset? VisibleAt, double? LatencyS, bool Ok, string? Error);
