using System.Diagnostics.Metrics;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// Hands on every request ASP.NET Core measures in its native <c>http.server.request.duration</c>: its method, route and
/// status, and its seconds. Only this host's meter (its <see cref="IMeterFactory"/>) is followed, so several hosts in
/// one process stay apart. Health and metrics endpoints opt out of the native measurement, and so never arrive here.
/// </summary>
public sealed class HttpRequestListener : IDisposable
{
    private const string NativeMeter = "Microsoft.AspNetCore.Hosting";
    private const string NativeInstrument = "http.server.request.duration";

    private readonly MeterListener listener = new();

    public HttpRequestListener(IMeterFactory meterFactory, Action<HttpRequestTags, double> onRequest)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NativeMeter && instrument.Name == NativeInstrument && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) => onRequest(HttpRequestTags.Read(tags), seconds));
    }

    public void Start() => listener.Start();

    public void Dispose() => listener.Dispose();
}
