using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Stats;

/// <summary>Bound from <c>Stats</c>.</summary>
public sealed class StatsOptions : IValidatableObject
{
    public const string SectionName = "Stats";

    /// <summary>How often changed 5-minute granules are folded into the rollups. Answers are exact either way.</summary>
    public Duration RollupInterval { get; set; } = Duration.FromSeconds(1);

    /// <summary>Up to this many jobs in the range, percentiles are computed exactly from the rows; above, from the histograms.</summary>
    [Range(0, 1_000_000)]
    public int ExactPercentileJobs { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RollupInterval.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(RollupInterval)]);
    }
}
