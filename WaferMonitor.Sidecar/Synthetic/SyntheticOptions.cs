using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Sidecar.Synthetic;

/// <summary>Bound from <c>Synthetic</c> (docs/observability.md#synthetic-checks).</summary>
public sealed class SyntheticOptions : IValidatableObject
{
    public const string SectionName = "Synthetic";

    /// <summary>When true, this Sidecar runs the site's canary: a job of the reserved app every <see cref="Interval"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// A check starts at the start of each interval (multiples of it since the Unix epoch); LocalApi's availability counts
    /// these intervals, so keep <see cref="Timeout"/> plus a few seconds shorter, and a result is in before its interval ends.
    /// </summary>
    public Duration Interval { get; set; } = Duration.FromSeconds(60);

    /// <summary>A check fails when its job is not visible in a LocalApi query this long after the Sidecar acknowledged it.</summary>
    public Duration Timeout { get; set; } = Duration.FromSeconds(30);

    /// <summary>The site the canary's events are for; <c>Sidecar:SiteId</c> when unset (one of them is needed when enabled).</summary>
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a site id such as fab1")]
    public string? SiteId { get; set; }

    /// <summary>Results not yet acknowledged by LocalApi kept at most (the oldest are dropped beyond it).</summary>
    [Range(1, 1_000_000)]
    public int MaxUnreported { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval.Value <= TimeSpan.Zero || Interval.Value > TimeSpan.FromDays(1))
            yield return new ValidationResult("must be positive and at most a day", [nameof(Interval)]);
        if (Timeout.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(Timeout)]);
    }
}
