using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// A pull-mode metric reader: each scrape collects the current cumulative values and renders them as Prometheus text.
/// Scrapes are serialised because a collection cycle owns the exporter's buffer.
/// </summary>
public sealed class PrometheusScrapeEndpoint : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly TextExporter exporter = new();

    public PrometheusScrapeEndpoint()
    {
        Reader = new BaseExportingMetricReader(exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
    }

    public MetricReader Reader { get; }

    public async Task<string> ScrapeAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            exporter.Output.Clear();
            Reader.Collect();
            return exporter.Output.ToString();
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        Reader.Dispose();
        gate.Dispose();
    }

    private sealed class TextExporter : BaseExporter<Metric>
    {
        public StringBuilder Output { get; } = new();

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
                PrometheusTextFormat.Write(Output, metric);
            return ExportResult.Success;
        }
    }
}
