using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using WaferMonitor.LocalApi.Ingest;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>Per integration: events delivered, failed delivery attempts, and how many stored events it has still to read.</summary>
internal sealed class IntegrationMetrics
{
    private readonly Counter<long> sent;
    private readonly Counter<long> failed;
    private readonly ConcurrentDictionary<string, long> lag = new(StringComparer.Ordinal);

    public IntegrationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(IngestMetrics.MeterName);
        sent = meter.CreateCounter<long>("integration_events_sent_total",
            description: "Terminal events an outbound integration's sink acknowledged, by integration.");
        failed = meter.CreateCounter<long>("integration_delivery_failures_total",
            description: "Failed delivery attempts of an outbound integration (each is retried with backoff), by integration.");
        meter.CreateObservableGauge("integration_lag_events",
            () => lag.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("integration", l.Key))),
            description: "Stored events (any kind) after an outbound integration's cursor, by integration; 0 once it has caught up.");
    }

    public void Sent(string integration, int events) => sent.Add(events, new KeyValuePair<string, object?>("integration", integration));

    public void Failed(string integration) => failed.Add(1, new KeyValuePair<string, object?>("integration", integration));

    public void Lag(string integration, long events) => lag[integration] = Math.Max(0, events);
}
