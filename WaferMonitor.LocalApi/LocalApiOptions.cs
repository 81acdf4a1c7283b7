using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi;

/// <summary>Bound from <c>LocalApi</c>.</summary>
public sealed class LocalApiOptions
{
    public const string SectionName = "LocalApi";

    /// <summary>The site this LocalApi serves; events for any other site are rejected as <c>wrong_site</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a site id such as fab1")]
    public string SiteId { get; set; } = "";

    [Range(2, 1000)]
    public int MaxPoolSize { get; set; } = 32;

    /// <summary>Ingest transactions in flight at once; further requests wait their turn.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentBatches { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Batches that queued up while waiting their turn are stored in one transaction up to this many events (a batch larger
    /// than this is stored alone).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxEventsPerTransaction { get; set; } = 4000;
}

/// <summary>Bound from <c>Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>How long events and settled jobs stay in PostgreSQL.</summary>
    public Duration Hot { get; set; } = Duration.FromHours(72);

    /// <summary>When true, nothing leaves the database before the Archiver's watermark has passed it.</summary>
    public bool RequireArchive { get; set; } = true;

    public Duration MaintenanceInterval { get; set; } = Duration.FromMinutes(5);

    /// <summary>Daily event partitions created ahead of today.</summary>
    [Range(1, 60)]
    public int PartitionsAhead { get; set; } = 3;
}
