using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.ServiceLevels;

/// <summary>
/// The objectives of a service's own HTTP requests, bound from <c>Sla</c> (docs/observability.md#service-levels) on
/// LocalApi and CentralApi; the defaults are the seed's.
/// </summary>
public class RequestObjectives : IValidatableObject
{
    public const string SectionName = "Sla";

    /// <summary>The rolling window the objectives are measured over.</summary>
    public Duration Window { get; set; } = Duration.FromDays(30);

    /// <summary>Largest share of this service's requests that may be answered 5xx.</summary>
    [Range(0.00001, 0.5)]
    public double MaxErrorRate { get; set; } = 0.01;

    /// <summary>Requests must be faster than this at <see cref="LatencyPercentile"/>.</summary>
    public Duration LatencyThreshold { get; set; } = Duration.FromSeconds(1);

    /// <summary>0.95: p95 below <see cref="LatencyThreshold"/>, i.e. 95 % of requests faster than it.</summary>
    [Range(0.5, 0.99999)]
    public double LatencyPercentile { get; set; } = 0.95;

    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window.Value < TimeSpan.FromHours(6))
            yield return new ValidationResult("must be at least 6h (the longest burn-rate window)", [nameof(Window)]);
        if (LatencyThreshold.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(LatencyThreshold)]);
    }
}
