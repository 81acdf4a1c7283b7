using System.Diagnostics.Metrics;
using WaferMonitor.LocalApi.Ingest;

namespace WaferMonitor.LocalApi.Stats;

internal sealed class StatsMetrics
{
    private readonly Counter<long> clamped;

    public StatsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(IngestMetrics.MeterName);
        clamped = meter.CreateCounter<long>("stats_values_clamped_total",
            description: $"Jobs with a metric beyond ±{StatsHistogram.Largest:0e0} binned as that value by the stats rollup (each time their granule is folded).");
    }

    public void Clamped(long jobs)
    {
        if (jobs > 0)
            clamped.Add(jobs);
    }
}
