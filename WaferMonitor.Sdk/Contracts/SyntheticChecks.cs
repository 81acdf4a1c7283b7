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
