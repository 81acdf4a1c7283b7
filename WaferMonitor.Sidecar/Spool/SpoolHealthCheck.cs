using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WaferMonitor.Sidecar.Forwarding;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>
/// Degraded when the spool is filling up, LocalApi cannot be reached (events are safe, but not flowing), or events were
/// dead-lettered recently (an operator should look at them).
/// </summary>
internal sealed class SpoolHealthCheck(SegmentSpool spool, ForwarderState forwarder, IOptions<SpoolOptions> options, TimeProvider clock) : IHealthCheck
{
    /// <summary>How long a dead letter keeps the Sidecar degraded; <c>GET /v1/spool</c> counts them for good.</summary>
    public static readonly TimeSpan RecentDeadLetter = TimeSpan.FromMinutes(15);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = spool.Status;
        var threshold = (long)(options.Value.MaxBytes * options.Value.DegradedFraction);
        var detail = $"{status.Events} events, {status.Bytes} of {options.Value.MaxBytes} bytes";
        if (status.Bytes > threshold)
            return Task.FromResult(HealthCheckResult.Degraded($"spool above {options.Value.DegradedFraction:P0}: {detail}"));
        if (forwarder.LastError is { } error)
            return Task.FromResult(HealthCheckResult.Degraded($"{error}; {detail}"));
        var (deadLettered, last) = forwarder.DeadLetters;
        if (last is not null && clock.GetUtcNow() - last.At < RecentDeadLetter)
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{deadLettered} events dead-lettered since start, the last at {last.At:O} ({last.Code}); see {spool.DirectoryPath}/dead-letters.jsonl, " +
                $"replay with POST /v1/spool/dead-letters:replay; {detail}"));
        return Task.FromResult(HealthCheckResult.Healthy(detail));
    }
}
