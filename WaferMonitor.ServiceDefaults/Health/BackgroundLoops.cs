using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WaferMonitor.ServiceDefaults.Health;

/// <summary>
/// What the service's background loops (stats rollup, partition maintenance, archiving…) report after each round, so a
/// loop that keeps failing turns health to degraded with its reason and shows in <c>background_loop_failures_total</c>
/// and <c>background_loop_consecutive_failures</c>, instead of only logging a warning every interval.
/// </summary>
public sealed class BackgroundLoops : IHealthCheck
{
    public const string HealthCheckName = "background";

    /// <summary>Failures in a row after which a loop counts as failing rather than unlucky.</summary>
    public const int FailuresBeforeDegraded = 3;

    private readonly ConcurrentDictionary<string, LoopState> loops = new(StringComparer.Ordinal);
    private readonly Counter<long> failures;
    private readonly TimeProvider clock;

    public BackgroundLoops(IMeterFactory meterFactory, TimeProvider clock)
    {
        this.clock = clock;
        var meter = meterFactory.Create("WaferMonitor.BackgroundLoops");
        failures = meter.CreateCounter<long>("background_loop_failures_total", description: "Failed rounds of a background loop, by loop.");
        meter.CreateObservableGauge("background_loop_consecutive_failures",
            () => loops.Select(l => new Measurement<long>(l.Value.ConsecutiveFailures, new KeyValuePair<string, object?>("loop", l.Key))),
            description: "Rounds of a background loop that failed in a row (0 once a round succeeds), by loop.");
    }

    public void Succeeded(string loop) => loops[loop] = new LoopState(0, null, null);

    public void Failed(string loop, Exception exception)
    {
        failures.Add(1, new KeyValuePair<string, object?>("loop", loop));
        var now = clock.GetUtcNow();
        loops.AddOrUpdate(loop,
            _ => new LoopState(1, now, exception.Message),
            (_, state) => new LoopState(state.ConsecutiveFailures + 1, state.FailingSince ?? now, exception.Message));
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failing = loops.Where(l => l.Value.ConsecutiveFailures >= FailuresBeforeDegraded).OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
        if (failing.Count == 0)
            return Task.FromResult(HealthCheckResult.Healthy(loops.IsEmpty ? "no background loop in this service" : $"{loops.Count} loops, none failing"));
        return Task.FromResult(HealthCheckResult.Degraded(string.Join("; ", failing.Select(l =>
            $"{l.Key} failed {l.Value.ConsecutiveFailures} times in a row since {l.Value.FailingSince:O}: {l.Value.LastError}"))));
    }

    private sealed record LoopState(long ConsecutiveFailures, DateTimeOffset? FailingSince, string? LastError);
}
