using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WaferMonitor.Archiver.Storage;

/// <summary>Degraded, never unhealthy: without S3 the Archiver still serves and the data waits safely in the database.</summary>
internal sealed class ArchiveBucketHealthCheck(ArchiveObjectStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var problem = await store.ProblemAsync(timeout.Token);
        return problem is null
            ? HealthCheckResult.Healthy($"bucket '{store.Bucket}' reachable")
            : HealthCheckResult.Degraded(problem + "; data is kept in the database");
    }
}
