using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sidecar.Synthetic;

/// <summary>
/// The site's canary (docs/observability.md#synthetic-checks): at the start of every <c>Synthetic:Interval</c> (multiples of
/// it since the Unix epoch, <see cref="SyntheticChecks.IntervalStart"/>) it posts a started and a finished event of a job of
/// the reserved app to this Sidecar's own ingest endpoint — so the job goes through the spool, the forwarder, LocalApi and
/// PostgreSQL like any other — and polls LocalApi's <c>GET /v1/synthetic/checks/{id}</c> (the job query, limited to
/// canary jobs so the Sidecar's ingest key suffices) until the job shows as succeeded; meanwhile it asks LocalApi's
/// <c>/health</c>. The time from the Sidecar's acknowledgement to the job's success is the check's latency; not seeing it
/// within <c>Synthetic:Timeout</c> is a failure. Results are metrics here and rows in LocalApi's <c>synthetic_check</c>,
/// reported until LocalApi takes them, so the checks that failed while it was unreachable are recorded when it is back.
/// </summary>
internal sealed partial class CanaryService(
    IHttpClientFactory clients, IServer server, IHostApplicationLifetime lifetime, SyntheticMetrics metrics,
    IOptions<SyntheticOptions> options, IOptions<SidecarOptions> sidecar, TimeProvider clock, ILogger<CanaryService> logger) : BackgroundService
{
    public const string HttpClientName = "synthetic";

    /// <summary>Posts the canary's events to this Sidecar, as a v2 app on the node does: without the LocalApi key.</summary>
    public const string SelfHttpClientName = "synthetic-self";

    /// <summary>The reserved app's id: the same on every site, so its registry row is one.</summary>
    private static readonly AppRef CanaryApp = new(Guid.Parse("5e7a1c00-0000-4000-8000-00000000ca7a"), SyntheticChecks.CanaryApp, "1");
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    /// <summary>One query attempt's longest wait: a frozen LocalApi is noticed as a timeout, not as a hung request.</summary>
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    private readonly Queue<SyntheticCheckResult> unreported = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var site = settings.SiteId ?? sidecar.Value.SiteId;
        if (!settings.Enabled)
            return;
        if (site is null)
        {
            LogNoSite();
            return;
        }
        // The canary posts to this Sidecar's own listening address, known once the server has started.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);
        var self = OwnUrl();
        var localApi = new Uri(sidecar.Value.LocalApiUrl);
        var node = sidecar.Value.NodeName ?? Environment.MachineName;
        var interval = settings.Interval.Value;
        while (true)
        {
            var checkId = Guid.NewGuid();
            var startedAt = clock.GetUtcNow();
            var health = ProbeHealthAsync(localApi, stoppingToken);
            var result = await CheckAsync(checkId, startedAt, self, localApi, site, node, settings.Timeout.Value, stoppingToken)
                with { Health = await health, IntervalS = interval.TotalSeconds };
            metrics.Record(result.Ok, result.Health!, result.LatencyS);
            if (!result.Ok)
                LogCheckFailed(result.CheckId, result.Error ?? "");
            else if (result.Health != SyntheticHealth.Healthy)
                LogNotHealthy(result.CheckId, result.Health!);
            unreported.Enqueue(result);
            while (unreported.Count > settings.MaxUnreported)
                unreported.Dequeue();
            await ReportAsync(localApi, stoppingToken);
            await WaitForNextIntervalAsync(startedAt, interval, stoppingToken);
        }
    }

    /// <summary>
    /// Until the interval after the one <paramref name="started"/> fell in begins — at once when a slow check ran into it.
    /// An interval a check never started in is one LocalApi's availability counts as unavailable.
    /// </summary>
    private async Task WaitForNextIntervalAsync(DateTimeOffset started, TimeSpan interval, CancellationToken stoppingToken)
    {
        var next = SyntheticChecks.IntervalStart(started, interval) + interval;
        // Looped: a timer may fire a little early, and the check must start inside its interval.
        while (next - clock.GetUtcNow() is var wait && wait > TimeSpan.Zero)
            await Task.Delay(wait, clock, stoppingToken);
    }

    /// <summary>LocalApi's <c>/health</c> (anonymous; 200 <c>Healthy</c> or <c>Degraded</c>, 503 <c>Unhealthy</c>) as <see cref="SyntheticHealth"/> words.</summary>
    private async Task<string> ProbeHealthAsync(Uri localApi, CancellationToken stoppingToken)
    {
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            attempt.CancelAfter(AttemptTimeout);
            using var response = await clients.CreateClient(HttpClientName).GetAsync(new Uri(localApi, "/health"), attempt.Token);
            var body = (await response.Content.ReadAsStringAsync(attempt.Token)).Trim();
            return response.IsSuccessStatusCode && body.Equals("Healthy", StringComparison.OrdinalIgnoreCase) ? SyntheticHealth.Healthy
                : response.IsSuccessStatusCode && body.Equals("Degraded", StringComparison.OrdinalIgnoreCase) ? SyntheticHealth.Degraded
                : SyntheticHealth.Unhealthy;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !stoppingToken.IsCancellationRequested)
        {
            return SyntheticHealth.Unreachable;
        }
    }

    private async Task<SyntheticCheckResult> CheckAsync(Guid checkId, DateTimeOffset startedAt, Uri self, Uri localApi, string site, string node,
        TimeSpan timeout, CancellationToken stoppingToken)
    {
        var client = clients.CreateClient(HttpClientName);
        var metadata = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["synthetic_check"] = checkId.ToString(), ["node"] = node });
        var entity = new EntityRef(EntityTypes.Job, checkId, BusinessKey: $"canary-{node}");
        WireEvent[] events =
        [
            new($"{checkId}:started", site, CanaryApp, entity, new EventBody(EventKinds.Started, startedAt, EntityStatuses.Running, null, metadata)),
            new($"{checkId}:finished", site, CanaryApp, entity, new EventBody(EventKinds.Finished, startedAt, EntityStatuses.Succeeded, null, null)),
        ];
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            attempt.CancelAfter(timeout);
            using var response = await clients.CreateClient(SelfHttpClientName)
                .PostAsJsonAsync(new Uri(self, "/v1/ingest/events:batch"), events, WireJson.Options, attempt.Token);
            if (!response.IsSuccessStatusCode)
                return Failed($"the Sidecar answered HTTP {(int)response.StatusCode}", ackedAt: null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !stoppingToken.IsCancellationRequested)
        {
            return Failed($"the Sidecar did not take the events: {ex.Message}", ackedAt: null);
        }
        var ackedAt = clock.GetUtcNow();
        var deadline = ackedAt + timeout;
        var lastError = "not visible";
        while (deadline - clock.GetUtcNow() is var remaining && remaining > TimeSpan.Zero)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                attempt.CancelAfter(remaining < AttemptTimeout ? remaining : AttemptTimeout);
                using var response = await client.GetAsync(new Uri(localApi, $"/v1/synthetic/checks/{checkId}"), attempt.Token);
                if (response.IsSuccessStatusCode)
                {
                    var detail = await response.Content.ReadFromJsonAsync<JsonElement>(attempt.Token);
                    if (detail.GetProperty("job").GetProperty("status").GetString() == EntityStatuses.Succeeded)
                    {
                        var visibleAt = clock.GetUtcNow();
                        return new SyntheticCheckResult(checkId, node, startedAt, ackedAt, visibleAt, (visibleAt - ackedAt).TotalSeconds, true, null);
                    }
                    lastError = "visible but not yet finished";
                }
                else
                {
                    lastError = response.StatusCode == System.Net.HttpStatusCode.NotFound ? "not visible" : $"LocalApi answered HTTP {(int)response.StatusCode}";
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException or KeyNotFoundException
                && !stoppingToken.IsCancellationRequested)
            {
                lastError = ex is TaskCanceledException ? "LocalApi did not answer" : $"LocalApi query failed: {ex.Message}";
            }
            await Task.Delay(PollInterval, clock, stoppingToken);
        }
        return Failed($"{lastError} within {timeout.TotalSeconds:0.###} s of the Sidecar's acknowledgement", ackedAt);

        SyntheticCheckResult Failed(string error, DateTimeOffset? ackedAt) => new(checkId, node, startedAt, ackedAt, null, null, false, error);
    }

    /// <summary>Sends every unreported result; they stay queued until LocalApi acknowledges them.</summary>
    private async Task ReportAsync(Uri localApi, CancellationToken stoppingToken)
    {
        if (unreported.Count == 0)
            return;
        try
        {
            var batch = unreported.ToArray();
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            attempt.CancelAfter(AttemptTimeout);
            using var response = await clients.CreateClient(HttpClientName)
                .PostAsJsonAsync(new Uri(localApi, "/v1/synthetic/results"), batch, WireJson.Options, attempt.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogReportFailed($"HTTP {(int)response.StatusCode}");
                return;
            }
            for (var i = 0; i < batch.Length; i++)
                unreported.Dequeue();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !stoppingToken.IsCancellationRequested)
        {
            LogReportFailed(ex.Message);
        }
    }

    /// <summary>This Sidecar's first listening address, with a wildcard host made loopback.</summary>
    private Uri OwnUrl()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the Sidecar has no listening address");
        var url = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (url.Host is "0.0.0.0" or "[::]" or "::")
            url.Host = "127.0.0.1";
        return url.Uri;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Synthetic checks are enabled but neither Synthetic:SiteId nor Sidecar:SiteId is set; no canary runs")]
    private partial void LogNoSite();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Synthetic check {CheckId} failed: {Reason}")]
    private partial void LogCheckFailed(Guid checkId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Synthetic check {CheckId} passed but LocalApi's /health answered {Health}; its interval counts as unavailable")]
    private partial void LogNotHealthy(Guid checkId, string health);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reporting synthetic check results to LocalApi failed: {Reason}")]
    private partial void LogReportFailed(string reason);
}
