using System.Diagnostics.Metrics;
using WaferMonitor.LocalApi.Ingest;

namespace WaferMonitor.LocalApi.Streaming;

internal sealed class StreamMetrics
{
    public const string QueueFull = "queue_full";
    public const string WriteTimeout = "write_timeout";

    private readonly UpDownCounter<long> clients;
    private readonly Counter<long> dropped;
    private readonly Counter<long> listenerReconnects;

    public StreamMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(IngestMetrics.MeterName);
        clients = meter.CreateUpDownCounter<long>("stream_clients", description: "Clients connected to the live event stream.");
        dropped = meter.CreateCounter<long>("stream_clients_dropped_total",
            description: "Stream clients disconnected for being too slow, by reason (queue_full, write_timeout).");
        listenerReconnects = meter.CreateCounter<long>("stream_listener_reconnects_total",
            description: "Times the stream's database listener was lost and re-established.");
    }

    public void ClientConnected() => clients.Add(1);

    public void ClientDisconnected() => clients.Add(-1);

    public void ClientDropped(string reason) => dropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ListenerReconnected() => listenerReconnects.Add(1);
}
