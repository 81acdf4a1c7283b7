using System.Diagnostics.Metrics;
using WaferMonitor.ServiceDefaults.Metrics;
using WaferMonitor.Sidecar.Forwarding;

namespace WaferMonitor.Sidecar.Synthetic;

internal sealed class SyntheticMetrics
{
    private readonly Counter<long> checks;
    private readonly Histogram<double> latency;

    public SyntheticMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SidecarMetrics.MeterName);
        checks = meter.CreateCounter<long>("synthetic_checks_total",
            description: "Synthetic checks run, by outcome (ok, failed) and what LocalApi's /health answered (healthy, degraded, unhealthy, unreachable).");
        latency = meter.CreateHistogram<double>("synthetic_latency_seconds", unit: "s",
            description: "Synthetic checks: Sidecar acknowledgement to the job visible in a LocalApi query.", tags: null, advice: DurationBuckets.Seconds);
    }

    public void Record(bool ok, string health, double? latencySeconds)
    {
        checks.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"), new KeyValuePair<string, object?>("health", health));
        if (latencySeconds is { } seconds)
            latency.Record(seconds);
    }
}
