namespace WaferMonitor.LocalApi.Stats;

public sealed record StatusCounts(long Running, long Succeeded, long Failed, long Canceled, long Total);

public sealed record StatsBucket(DateTimeOffset Start, long Running, long Succeeded, long Failed, long Canceled);

public sealed record Percentiles(double? P50, double? P95, double? P99);

/// <summary><c>failure_rate</c> is failed over finished (succeeded + failed + canceled) jobs; null when none finished.</summary>
public sealed record AppStats(
    string AppName, long Jobs, long Failed, double? FailureRate, Percentiles DurationS, Percentiles CpuUserS, Percentiles MemMaxMb);

public sealed record RunningJobs(long Count, DateTimeOffset? OldestStartedAt, Guid? OldestJobId, double? OldestAgeSeconds);

/// <summary>
/// <c>GET /v1/stats</c>: jobs whose <c>started_at</c> is in [from, to), plus what is running now (whenever it started).
/// <c>percentile_method</c> is <c>exact</c> (from the rows, as <c>percentile_cont</c>) or <c>histogram</c> (from the
/// rollups' log-scale bins, within 1 %), depending on how many jobs the range holds (<c>Stats:ExactPercentileJobs</c>).
/// </summary>
public sealed record JobStats(
    DateTimeOffset From, DateTimeOffset To, long BucketSeconds, StatusCounts Counts, IReadOnlyList<StatsBucket> Buckets,
    IReadOnlyList<AppStats> PerApp, RunningJobs Running, string PercentileMethod);
