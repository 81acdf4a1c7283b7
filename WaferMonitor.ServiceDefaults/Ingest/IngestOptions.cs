using System.ComponentModel.DataAnnotations;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Ingest;

/// <summary>Ingest limits shared by Sidecar and LocalApi; bound from <c>Ingest</c>.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    [Range(1024, 64 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    [Range(1, 64 * 1024 * 1024)]
    public int MaxMetadataBytes { get; set; } = 64 * 1024;

    [Range(1, 1_000_000)]
    public int MaxBatchEvents { get; set; } = 10_000;

    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxBatchBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How far ahead of the server clock an event's <c>at</c> may be.</summary>
    public Duration MaxFutureSkew { get; set; } = Duration.FromMinutes(5);

    /// <summary>How long an idempotency key is remembered: the longest replay that stays exactly-once.</summary>
    public Duration DedupeWindow { get; set; } = Duration.FromDays(7);

    public IngestLimits ToLimits() => new()
    {
        MaxEventBytes = MaxEventBytes,
        MaxMetadataBytes = MaxMetadataBytes,
        MaxBatchEvents = MaxBatchEvents,
        MaxBatchBytes = MaxBatchBytes,
        MaxFutureSkew = MaxFutureSkew.Value,
    };
}
