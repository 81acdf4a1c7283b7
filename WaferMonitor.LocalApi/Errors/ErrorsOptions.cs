using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Errors;

/// <summary>Bound from <c>Errors</c> (docs/errors.md).</summary>
public sealed class ErrorsOptions : IValidatableObject
{
    public const string SectionName = "Errors";

    /// <summary>
    /// False stores no error occurrences: ingest fingerprints nothing, so error groups and their alert rules see no new
    /// failures. For measuring what fingerprinting costs ingest (<c>bench ingest</c>); on in production.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A group seen again after at least this long without an occurrence is <c>regressed</c>.</summary>
    public Duration RegressionAfter { get; set; } = Duration.FromHours(24);

    /// <summary>How long error occurrences are kept: a group first seen within it is told apart from an old one.</summary>
    public Duration Retention { get; set; } = Duration.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RegressionAfter.Value <= TimeSpan.Zero)
            yield return new("must be positive", [nameof(RegressionAfter)]);
        if (Retention.Value <= TimeSpan.Zero)
            yield return new("must be positive", [nameof(Retention)]);
    }
}
