using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.CentralApi;

/// <summary>Bound from <c>Central</c>.</summary>
public sealed class CentralOptions : IValidatableObject
{
    public const string SectionName = "Central";

    /// <summary>Bounds each site's share of a fan-out request, retries and waiting for a concurrency slot included.</summary>
    public Duration SiteTimeout { get; set; } = Duration.FromSeconds(2);

    /// <summary>Bounds a request forwarded to one site with <c>site=</c> (pages of up to 10 000 rows take longer).</summary>
    public Duration ForwardTimeout { get; set; } = Duration.FromSeconds(30);

    /// <summary>How long a complete fan-out answer is served from memory; <c>0s</c> turns the cache off.</summary>
    public Duration CacheTtl { get; set; } = Duration.FromSeconds(2);

    /// <summary>Upper bound of the memory the cache may hold, in bytes of response bodies.</summary>
    [Range(1024, long.MaxValue)]
    public long CacheMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Requests in flight to one site at a time, so many dashboards cannot overload a site.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentRequestsPerSite { get; set; } = 8;

    /// <summary>How often each site's health is polled; at most 4 s so a reported site status is never older than 5 s.</summary>
    public Duration HealthInterval { get; set; } = Duration.FromSeconds(2);

    /// <summary>The longest a reported site status may be old.</summary>
    public static readonly TimeSpan MaxStatusAge = TimeSpan.FromSeconds(5);

    /// <summary>A health poll's deadline: a new status lands within interval + this, which stays within <see cref="MaxStatusAge"/>.</summary>
    public TimeSpan HealthTimeout => SiteTimeout.Value < MaxStatusAge - HealthInterval.Value ? SiteTimeout.Value : MaxStatusAge - HealthInterval.Value;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SiteTimeout.Value <= TimeSpan.Zero || SiteTimeout.Value > TimeSpan.FromMinutes(5))
            yield return new ValidationResult("must be between 1ms and 5m", [nameof(SiteTimeout)]);
        if (ForwardTimeout.Value <= TimeSpan.Zero || ForwardTimeout.Value > TimeSpan.FromMinutes(5))
            yield return new ValidationResult("must be between 1ms and 5m", [nameof(ForwardTimeout)]);
        if (CacheTtl.Value < TimeSpan.Zero || CacheTtl.Value > TimeSpan.FromHours(1))
            yield return new ValidationResult("must be between 0s (off) and 1h", [nameof(CacheTtl)]);
        if (HealthInterval.Value < TimeSpan.FromMilliseconds(100) || HealthInterval.Value > TimeSpan.FromSeconds(4))
            yield return new ValidationResult("must be between 100ms and 4s", [nameof(HealthInterval)]);
    }
}
