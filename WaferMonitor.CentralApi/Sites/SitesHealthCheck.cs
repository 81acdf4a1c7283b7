using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WaferMonitor.CentralApi.Sites;

/// <summary>
/// The <c>sites</c> check of <c>/v1/healthz</c>: degraded — not unhealthy — when a site is down, because CentralApi
/// still answers for the others (with partial results).
/// </summary>
internal sealed class SitesHealthCheck(SiteHealthMonitor monitor) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var statuses = monitor.Current;
        var down = statuses.Where(s => !s.IsUp).ToList();
        var result = down.Count == 0
            ? HealthCheckResult.Healthy($"{statuses.Count} sites up: {string.Join(", ", statuses.Select(s => $"{s.SiteId} {s.Status}"))}")
            : HealthCheckResult.Degraded(
                $"{down.Count} of {statuses.Count} sites down: {string.Join("; ", down.Select(s => $"{s.SiteId} {s.Status} ({s.Error})"))}");
        return Task.FromResult(result);
    }
}
