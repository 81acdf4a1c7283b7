using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.CentralApi.ServiceLevels;

/// <summary>
/// Bound from <c>Sla</c> on CentralApi (docs/observability.md#service-levels): the objectives of its own query requests.
/// The defaults are LocalApi's; availability is the sites' alone.
/// </summary>
public sealed class CentralSlaOptions : IValidatableObject
{
    public const string SectionName = "Sla";

    /// <summary>The rolling window; CentralApi keeps one counter slot per minute of it, in memory.</summary>
    public Duration Window { get; set; } = Duration.FromDays(30);

    /// <summary>Largest share of CentralApi's query requests that may be answered 5xx.</summary>
    [Range(0.00001, 0.5)]
    public double MaxErrorRate { get; set; } = 0.01;

    /// <summary>Query requests must be faster than this at <see cref="LatencyPercentile"/>.</summary>
    public Duration LatencyThreshold { get; set; } = Duration.FromSeconds(1);

    [Range(0.5, 0.99999)]
    public double LatencyPercentile { get; set; } = 0.95;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window.Value < TimeSpan.FromHours(6) || Window.Value > TimeSpan.FromDays(400))
            yield return new ValidationResult("must be from 6h (the longest burn-rate window) to 400d", [nameof(Window)]);
        if (LatencyThreshold.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(LatencyThreshold)]);
    }
}
