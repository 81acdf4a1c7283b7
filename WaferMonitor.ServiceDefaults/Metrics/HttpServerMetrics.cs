using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// The seed's HTTP series, <c>http_requests_total{method,route,status}</c> and <c>http_request_duration_seconds</c>,
/// mapped from ASP.NET Core's native <c>http.server.request.duration</c> measurements. Hand-written because no package
/// produces them: the ASP.NET Core instrumentation keeps OpenTelemetry's attribute names (<c>http.route</c>…), and a view
/// can rename an instrument but not its attributes, nor make a counter of a histogram. Only this host's meter is
/// followed, so several hosts in one process stay apart.
/// Health and metrics endpoints opt out of the native measurement, and so never reach these series.
/// </summary>
internal sealed class HttpServerMetrics : IHostedService, IDisposable
{
    public const string MeterName = "WaferMonitor.Http";
    private const string NativeMeter = "Microsoft.AspNetCore.Hosting";
    private const string NativeInstrument = "http.server.request.duration";

    private readonly IMeterFactory meterFactory;
    private readonly Counter<long> requests;
    private readonly Histogram<double> duration;
    private readonly MeterListener listener = new();

    public HttpServerMetrics(IMeterFactory meterFactory)
    {
        this.meterFactory = meterFactory;
        var meter = meterFactory.Create(MeterName);
        requests = meter.CreateCounter<long>("http_requests_total", description: "HTTP requests served, by method, route and status.");
        duration = meter.CreateHistogram<double>("http_request_duration_seconds", unit: "s",
            description: "HTTP request duration, by method, route and status.", tags: null, advice: DurationBuckets.Seconds);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NativeMeter && instrument.Name == NativeInstrument && ReferenceEquals(instrument.Meter.Scope, this.meterFactory))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>(OnRequest);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => listener.Dispose();

    private void OnRequest(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var (method, route, status) = HttpRequestTags.Read(tags);
        // Requests that matched no endpoint have no route; one label value keeps scanners probing URLs from multiplying series.
        var labels = new TagList { { "method", method }, { "route", route.Length == 0 ? "unmatched" : route }, { "status", status.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        requests.Add(1, labels);
        duration.Record(seconds, labels);
    }
}
