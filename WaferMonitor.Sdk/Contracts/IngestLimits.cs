namespace WaferMonitor.Sdk.Contracts;

/// <summary>Size and time limits applied to incoming events (DESIGN.md §4.1); services bind them from <c>Ingest:*</c>.</summary>
public sealed record IngestLimits
{
    public const int MaxKeyLength = 200;
    public const int MaxNameLength = 256;

    public int MaxEventBytes { get; init; } = 1024 * 1024;
    public int MaxMetadataBytes { get; init; } = 64 * 1024;
    public int MaxBatchEvents { get; init; } = 10_000;
    public long MaxBatchBytes { get; init; } = 16L * 1024 * 1024;
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);
}
