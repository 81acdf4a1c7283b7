using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Sidecar;

/// <summary>Bound from <c>Sidecar</c>.</summary>
public sealed class SidecarOptions
{
    public const string SectionName = "Sidecar";

    /// <summary>When set, events for another site are rejected as <c>wrong_site</c>.</summary>
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a site id such as fab1")]
    public string? SiteId { get; set; }

    /// <summary>Where LocalApi is: a URL, or a service-discovery name such as <c>http://localapi-fab1</c>.</summary>
    [Required, Url]
    public string LocalApiUrl { get; set; } = "http://localhost:18000";

    /// <summary>
    /// The ingest key this Sidecar sends to LocalApi (<c>Authorization: Bearer</c>) with events and heartbeats; one of the
    /// keys in LocalApi's <c>Security:Credentials</c> with the <c>ingest</c> scope.
    /// </summary>
    public string? LocalApiKey { get; set; }

    /// <summary>How often this Sidecar reports its spool to LocalApi (<c>0s</c>: never).</summary>
    public Duration HeartbeatInterval { get; set; } = Duration.FromSeconds(15);

    /// <summary>The name this Sidecar reports under; unique among one site's Sidecars. The machine name when unset.</summary>
    [RegularExpression("^[A-Za-z0-9._:-]{1,200}$", ErrorMessage = "must be 1-200 letters, digits, '.', '_', '-' or ':'")]
    public string? NodeName { get; set; }
}

/// <summary>Bound from <c>Spool</c>.</summary>
public sealed class SpoolOptions
{
    public const string SectionName = "Spool";

    [Required]
    public string Directory { get; set; } = "spool";

    /// <summary>Spool capacity; beyond it new events are refused with 503 and nothing already spooled is dropped.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxBytes { get; set; } = 1024L * 1024 * 1024;

    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long SegmentBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Health turns degraded above this fraction of <see cref="MaxBytes"/>.</summary>
    [Range(0.01, 1.0)]
    public double DegradedFraction { get; set; } = 0.8;
}

/// <summary>Bound from <c>Forwarder</c>.</summary>
public sealed class ForwarderOptions
{
    public const string SectionName = "Forwarder";

    /// <summary>
    /// Events per forwarded batch, on average: the forwarder reads <c>BatchSize × Lanes</c> events at a time and each lane
    /// sends its share of them as one batch. Each batch also costs LocalApi and PostgreSQL some fixed work: at full load
    /// 2000 stored about a tenth more events per second than 1000 in the ingest benchmark.
    /// </summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 2000;

    [Range(64 * 1024, 16L * 1024 * 1024)]
    public long BatchBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Batches in flight at once. Events are dealt to lanes by job (a subjob goes with its parent), so one job's events
    /// still arrive in the order they were spooled, while different jobs' events travel side by side.
    /// </summary>
    [Range(1, 32)]
    public int Lanes { get; set; } = 4;

    /// <summary>How long a partial batch waits for more events before it is sent.</summary>
    public Duration Linger { get; set; } = Duration.FromSeconds(0.05);

    public Duration MaxBackoff { get; set; } = Duration.FromSeconds(30);
}
