using System.Diagnostics.Metrics;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.LocalApi.Ingest;

internal sealed class IngestMetrics
{
    public const string MeterName = "WaferMonitor.LocalApi";

    private readonly Counter<long> eventsProcessed;
    private readonly Histogram<double> batchDuration;

    public IngestMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        eventsProcessed = meter.CreateCounter<long>("events_processed_total", description: "Events handled by ingest, by kind and outcome.");
        batchDuration = meter.CreateHistogram<double>(
            "ingest_batch_duration_seconds", unit: "s", description: "Time to store one ingest batch.", tags: null, advice: DurationBuckets.Seconds);
    }

    public void RecordBatch(IReadOnlyList<IngestItem> stored, int duplicates, TimeSpan elapsed)
    {
        foreach (var group in stored.GroupBy(i => i.Event.Event.Kind))
            eventsProcessed.Add(group.Count(), new("kind", group.Key), new("status", "accepted"));
        if (duplicates > 0)
            eventsProcessed.Add(duplicates, new("kind", "any"), new("status", "duplicate"));
        batchDuration.Record(elapsed.TotalSeconds);
    }

    public void RecordRejected(int count)
    {
        if (count > 0)
            eventsProcessed.Add(count, new("kind", "any"), new("status", "rejected"));
    }
}
