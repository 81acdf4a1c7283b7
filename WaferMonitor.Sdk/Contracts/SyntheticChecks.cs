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

    /// <summary>
    /// The start of the check interval <paramref name="at"/> falls in: intervals are multiples of <paramref name="interval"/>
    /// since the Unix epoch (for a minute: each whole minute). The canary starts a check at each one; availability counts them.
    /// </summary>
    public static DateTimeOffset IntervalStart(DateTimeOffset at, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var sinceEpoch = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new DateTimeOffset(at.UtcTicks - (sinceEpoch % interval.Ticks + interval.Ticks) % interval.Ticks, TimeSpan.Zero);
    }
}

/// <summary>
/// One synthetic check as the Sidecar that ran it reports it to its LocalApi (<c>POST /v1/synthetic/results</c>): when its
/// events were posted, when the Sidecar acknowledged them, when the job was first visible in a LocalApi query, and why
/// it failed if it did; what LocalApi's <c>/health</c> answered meanwhile (<see cref="SyntheticHealth"/>); and the
/// check interval it stands for. Reported (again) until LocalApi acknowledges, so checks that failed while LocalApi was
/// away are recorded once it is back.
/// </summary>
/// <param name="Health">Null from a Sidecar that does not probe health.</param>
/// <param name="IntervalS">The canary's <c>Synthetic:Interval</c> in seconds; null from a Sidecar that does not send it.</param>
public sealed record SyntheticCheckResult(
    Guid CheckId, string Node, DateTimeOffset StartedAt, DateTimeOffset? AckedAt, DateTimeOffset? VisibleAt, double? LatencyS, bool Ok, string? Error,
    string? Health = null, double? IntervalS = null);

/// <summary>What LocalApi's <c>/health</c> answered the canary: only <see cref="Healthy"/> counts towards availability.</summary>
public static class SyntheticHealth
{
    public const string Healthy = "healthy";
    public const string Degraded = "degraded";
    public const string Unhealthy = "unhealthy";

    /// <summary>No answer within the probe's timeout, or no connection.</summary>
    public const string Unreachable = "unreachable";

    public static bool IsKnown(string value) => value is Healthy or Degraded or Unhealthy or Unreachable;
}
