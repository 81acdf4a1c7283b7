using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WaferMonitor.Sdk.Client;

/// <summary>Names to register with OpenTelemetry (<c>AddSource</c>/<c>AddMeter</c>) to see the SDK's own telemetry.</summary>
public static class SdkTelemetryNames
{
    public const string ActivitySource = "WaferMonitor.Sdk";
    public const string Meter = "WaferMonitor.Sdk";
    public const string EventsDropped = "wafermonitor_sdk_events_dropped";
    public const string EventsSent = "wafermonitor_sdk_events_sent";
    public const string QueueLength = "wafermonitor_sdk_queue_length";
}

/// <summary>Why an event never reached the sidecar; the <c>reason</c> tag of the drop counter.</summary>
internal static class DropReasons
{
    public const string QueueFull = "queue_full";
    public const string Rejected = "rejected";
    public const string TooLarge = "too_large";
    public const string Shutdown = "shutdown";
    public const string Disposed = "disposed";
    public const string Unserializable = "unserializable";
}

/// <summary>One client's activity source and instruments; per client rather than static so disposal releases them.</summary>
internal sealed class SdkTelemetry : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _sent;
    private long _droppedTotal;

    public SdkTelemetry(Func<int> queueLength)
    {
        var version = typeof(SdkTelemetry).Assembly.GetName().Version?.ToString();
        ActivitySource = new ActivitySource(SdkTelemetryNames.ActivitySource, version);
        _meter = new Meter(SdkTelemetryNames.Meter, version);
        _dropped = _meter.CreateCounter<long>(SdkTelemetryNames.EventsDropped, "{event}",
            "Events that never reached the sidecar, by kind and reason.");
        _sent = _meter.CreateCounter<long>(SdkTelemetryNames.EventsSent, "{event}",
            "Events the sidecar acknowledged.");
        _meter.CreateObservableGauge(SdkTelemetryNames.QueueLength, queueLength, "{event}",
            "Events waiting to be sent.");
    }

    public ActivitySource ActivitySource { get; }

    /// <summary>This client's meter; lets a listener tell its instruments from another client's.</summary>
    public Meter Meter => _meter;

    public long DroppedTotal => Interlocked.Read(ref _droppedTotal);

    public void Dropped(string kind, string reason)
    {
        Interlocked.Increment(ref _droppedTotal);
        _dropped.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("reason", reason));
    }

    public void Sent(int count) => _sent.Add(count);

    public void Dispose()
    {
        ActivitySource.Dispose();
        _meter.Dispose();
    }
}
