using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Resilience;

/// <summary>
/// Resilience of every outgoing <see cref="HttpClient"/>; bound from <c>Resilience:Http</c> and applied to the standard
/// resilience handler. Our own keys (durations such as <c>200ms</c>) stay the documented interface.
/// </summary>
public sealed class HttpResilienceOptions : IValidatableObject
{
    public const string SectionName = "Resilience:Http";

    public Duration TotalTimeout { get; set; } = Duration.FromSeconds(30);
    public Duration AttemptTimeout { get; set; } = Duration.FromSeconds(10);

    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    public Duration RetryBaseDelay { get; set; } = Duration.FromSeconds(0.2);

    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Range(2, int.MaxValue)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    public Duration BreakerSamplingDuration { get; set; } = Duration.FromSeconds(30);
    public Duration BreakerBreakDuration { get; set; } = Duration.FromSeconds(5);

    // The standard handler's own rules, checked here so a violation names our key at start-up rather than failing
    // the first request.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AttemptTimeout.Value > TotalTimeout.Value)
            yield return new ValidationResult("must not exceed TotalTimeout", [nameof(AttemptTimeout)]);
        if (BreakerSamplingDuration.Value < 2 * AttemptTimeout.Value)
            yield return new ValidationResult("must be at least twice AttemptTimeout", [nameof(BreakerSamplingDuration)]);
    }
}
