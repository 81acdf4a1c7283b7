using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Metrics;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.CentralApi.ServiceLevels;

/// <summary>CentralApi's own service levels: <c>GET /v1/sla</c> shows them beside the sites'.</summary>
/// <param name="RecordedSince">When this process started counting: the counts are in memory and restart empty.</param>
public sealed record CentralApiServiceLevels(DateTimeOffset RecordedSince, IReadOnlyList<SlaStatus> Objectives);

/// <summary>
/// Counts CentralApi's own query requests — the <c>GET /v1/…</c> routes, as LocalApi counts its queries — per minute in
/// memory (<see cref="RequestMinutes"/>), from ASP.NET Core's <c>http.server.request.duration</c> measurements
/// (<see cref="HttpRequestListener"/>). CentralApi has no database of its own, so the record restarts empty with it.
/// </summary>
internal sealed class OwnRequestRecorder : IHostedService, IDisposable
{
    private readonly HttpRequestListener listener;
    private readonly RequestMinutes minutes;
    private readonly CentralSlaOptions settings;
    private readonly TimeProvider clock;
    private readonly DateTimeOffset recordedSince;

    public OwnRequestRecorder(IMeterFactory meterFactory, IOptions<CentralSlaOptions> options, TimeProvider clock)
    {
        settings = options.Value;
        this.clock = clock;
        recordedSince = clock.GetUtcNow();
        minutes = new RequestMinutes(settings.Window.Value);
        listener = new HttpRequestListener(meterFactory, OnRequest);
    }

    /// <summary>Whether a request counts: a GET of <c>/v1/…</c> (the live stream's path excepted, should CentralApi serve one).</summary>
    public static bool Counts(string method, string route) =>
        method == "GET" && route.StartsWith("/v1/", StringComparison.Ordinal) && !route.StartsWith("/v1/stream", StringComparison.Ordinal);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => listener.Dispose();

    public CentralApiServiceLevels ServiceLevels()
    {
        var (answered, fast) = minutes.Windows(clock.GetUtcNow());
        var window = settings.Window.Value;
        var threshold = settings.LatencyThreshold.Value.TotalSeconds;
        return new CentralApiServiceLevels(recordedSince,
        [
            SlaCalculator.Evaluate("error_rate", "CentralApi's own query requests not answered 5xx", 1 - settings.MaxErrorRate, window, answered),
            SlaCalculator.Evaluate("latency_query",
                $"CentralApi's own query requests faster than {threshold:0.###} s (p{settings.LatencyPercentile * 100:0.###})",
                settings.LatencyPercentile, window, fast),
        ]);
    }

    private void OnRequest(HttpRequestTags request, double seconds)
    {
        if (Counts(request.Method, request.Route))
            minutes.Record(clock.GetUtcNow(), request.Status >= 500, seconds > settings.LatencyThreshold.Value.TotalSeconds);
    }
}
