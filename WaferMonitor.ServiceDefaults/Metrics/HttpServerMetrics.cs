using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// The seed's HTTP series, <c>http_requests_total{method,route,status}</c> and <c>http_request_duration_seconds</c>,
/// mapped from ASP.NET Core's native <c>http.server.request.duration</c> measurements. Hand-written because no package
/// produces them: the ASP.NET Core instrumentation keeps OpenTelemetry's attribute names (<c>http.route</c>…), and a view
/// can rename an instrument but not its attributes, nor make a counter of a histogram. Only this host's requests count
/// (<see cref="HttpRequestListener"/>); health and metrics endpoints never reach these series.
/// </summary>
internal sealed class HttpServerMetrics : IHostedService, IDisposable
{
    public const string MeterName = "WaferMonitor.Http";

    private readonly Counter<long> requests;
    private readonly Histogram<double> duration;
    private readonly HttpRequestListener listener;

    public HttpServerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        requests = meter.CreateCounter<long>("http_requests_total", description: "HTTP requests served, by method, route and status.");
        duration = meter.CreateHistogram<double>("http_request_duration_seconds", unit: "s",
            description: "HTTP request duration, by method, route and status.", tags: null, advice: DurationBuckets.Seconds);
        listener = new HttpRequestListener(meterFactory, OnRequest);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => listener.Dispose();

    private void OnRequest(HttpRequestTags request, double seconds)
    {
        var (method, route, status) = request;
        // Requests that matched no endpoint have no route; one label value keeps scanners probing URLs from multiplying series.
        var labels = new TagList { { "method", method }, { "route", route.Length == 0 ? "unmatched" : route }, { "status", status.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        requests.Add(1, labels);
        duration.Record(seconds, labels);
    }
}
