using System.Diagnostics.Metrics;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.LocalApi.Ingest;

internal sealed class IngestMetrics
{
    public const string MeterName = "WaferMonitor.LocalApi";

    private readonly Counter<long> eventsProcessed;
    private readonly Histogram<double> batchDuration;
    private readonly Counter<long> jobsTotal;
    private readonly Histogram<double> jobDuration;
    private long runningJobs;
    private long batchesWaiting;
    private double oldestRunningSeconds;

    public IngestMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        eventsProcessed = meter.CreateCounter<long>("events_processed_total", description: "Events handled by ingest, by kind and outcome.");
        batchDuration = meter.CreateHistogram<double>(
            "ingest_batch_duration_seconds", unit: "s", description: "Time to store one ingest batch.", tags: null, advice: DurationBuckets.Seconds);
        jobsTotal = meter.CreateCounter<long>("jobs_total", description: "Jobs that reached a terminal status, by app and status.");
        jobDuration = meter.CreateHistogram<double>("job_duration_seconds", unit: "s",
            description: "Duration of jobs when they reach a terminal status, by app.", tags: null, advice: DurationBuckets.Seconds);
        meter.CreateObservableGauge("ingest_batches_waiting", () => Interlocked.Read(ref batchesWaiting),
            description: "Ingest batches received and waiting for their turn, not yet taken into a transaction.");
        meter.CreateObservableGauge("jobs_running", () => Interlocked.Read(ref runningJobs), description: "Jobs currently running on this site.");
        meter.CreateObservableGauge("job_oldest_running_seconds", () => Volatile.Read(ref oldestRunningSeconds),
            unit: "s", description: "Age of the oldest running job (0 when none runs).");
    }

    public void JobFinished(string app, string status, double? durationSeconds)
    {
        var appTag = new KeyValuePair<string, object?>("app", app);
        jobsTotal.Add(1, appTag, new("status", status));
        if (durationSeconds is { } seconds)
            jobDuration.Record(seconds, appTag);
    }

    public void Running(long count, double oldestAgeSeconds)
    {
        Interlocked.Exchange(ref runningJobs, count);
        Volatile.Write(ref oldestRunningSeconds, oldestAgeSeconds);
    }

    public void BatchesWaiting(int count) => Interlocked.Exchange(ref batchesWaiting, count);

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
