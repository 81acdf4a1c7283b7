using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WaferMonitor.Sidecar.Forwarding;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>Degraded when the spool is filling up or LocalApi cannot be reached: events are safe, but not flowing.</summary>
internal sealed class SpoolHealthCheck(SegmentSpool spool, ForwarderState forwarder, IOptions<SpoolOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = spool.Status;
        var threshold = (long)(options.Value.MaxBytes * options.Value.DegradedFraction);
        var detail = $"{status.Events} events, {status.Bytes} of {options.Value.MaxBytes} bytes";
        if (status.Bytes > threshold)
            return Task.FromResult(HealthCheckResult.Degraded($"spool above {options.Value.DegradedFraction:P0}: {detail}"));
        if (forwarder.LastError is { } error)
            return Task.FromResult(HealthCheckResult.Degraded($"{error}; {detail}"));
        return Task.FromResult(HealthCheckResult.Healthy(detail));
    }
}
