using System.Diagnostics.Metrics;
using WaferMonitor.ServiceDefaults.Metrics;
using WaferMonitor.Sidecar.Spool;

namespace WaferMonitor.Sidecar.Forwarding;

internal sealed class SidecarMetrics
{
    public const string MeterName = "WaferMonitor.Sidecar";

    private readonly Counter<long> forwarded;
    private readonly Counter<long> rejected;
    private readonly Counter<long> deadLettered;
    private readonly Counter<long> refused;
    private readonly Histogram<double> forwardLatency;

    public SidecarMetrics(IMeterFactory meterFactory, SegmentSpool spool)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("events_in_spool", () => spool.Status.Events, description: "Events acknowledged but not yet delivered to LocalApi.");
        meter.CreateObservableGauge("spool_bytes", () => spool.Status.Bytes, unit: "By", description: "Bytes of spool segment files on disk.");
        forwarded = meter.CreateCounter<long>("events_forwarded_total", description: "Events LocalApi accepted (duplicates included).");
        rejected = meter.CreateCounter<long>("events_rejected_total", description: "Events refused, by code (at ingest or by LocalApi).");
        deadLettered = meter.CreateCounter<long>("events_dead_lettered_total", description: "Events written to the dead-letter file.");
        refused = meter.CreateCounter<long>("spool_full_refusals_total", description: "Requests refused with 503 because the spool was full.");
        forwardLatency = meter.CreateHistogram<double>(
            "forward_latency_seconds", unit: "s", description: "Time from receipt to LocalApi acknowledgement.", tags: null, advice: DurationBuckets.Seconds);
    }

    public void Forwarded(int count) => forwarded.Add(count);
    public void Rejected(string code, int count = 1) => rejected.Add(count, new KeyValuePair<string, object?>("code", code));
    public void DeadLettered(int count) => deadLettered.Add(count);
    public void SpoolFull() => refused.Add(1);
    public void Latency(TimeSpan latency) => forwardLatency.Record(latency.TotalSeconds);
}
