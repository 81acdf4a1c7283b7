using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>Bound from <c>Sla</c> (docs/observability.md#service-levels); the defaults are the seed's objectives.</summary>
public sealed class SlaOptions : IValidatableObject
{
    public const string SectionName = "Sla";

    /// <summary>The rolling window the objectives are measured over; request and check history is kept a day longer.</summary>
    public Duration Window { get; set; } = Duration.FromDays(30);

    /// <summary>Share of the time that must be in check intervals whose synthetic check passed with LocalApi healthy (<see cref="AvailabilityWindows"/>).</summary>
    [Range(0.5, 0.99999)]
    public double Availability { get; set; } = 0.995;

    /// <summary>Largest share of this API's requests (ingest and queries) that may be answered 5xx.</summary>
    [Range(0.00001, 0.5)]
    public double MaxErrorRate { get; set; } = 0.01;

    /// <summary>Ingest and query requests must be faster than this at <see cref="LatencyPercentile"/>.</summary>
    public Duration LatencyThreshold { get; set; } = Duration.FromSeconds(1);

    /// <summary>0.95: p95 below <see cref="LatencyThreshold"/>, i.e. 95 % of requests faster than it.</summary>
    [Range(0.5, 0.99999)]
    public double LatencyPercentile { get; set; } = 0.95;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window.Value < TimeSpan.FromHours(6))
            yield return new ValidationResult("must be at least 6h (the longest burn-rate window)", [nameof(Window)]);
        if (LatencyThreshold.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(LatencyThreshold)]);
    }
}
