using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace WaferMonitor.CentralApi.Sites;

/// <summary>The last known state of one site, as <c>/v1/sites</c> shows it.</summary>
public sealed record SiteStatus(
    string SiteId, string Url, string Status, double? LatencyMs, DateTimeOffset? LastContactAt, string? Error, DateTimeOffset? CheckedAt)
{
    public const string Ok = "ok";
    public const string Unknown = "unknown";
    public const string Down = "down";

    /// <summary>A site answering ok or degraded serves reads; unhealthy, unreachable or not yet checked does not count.</summary>
    public bool IsUp => Status is Ok or "degraded";

    /// <summary>v2's name for <see cref="SiteId"/> in <c>/v1/sites</c>.</summary>
    public string Id => SiteId;

    /// <summary>v2's name for <see cref="Url"/> in <c>/v1/sites</c>.</summary>
    public string Endpoint => Url;
}

/// <summary>
/// Polls every site's <c>/v1/healthz</c> in the background, one loop per site, so <c>/v1/sites</c> and the health check
/// answer instantly from memory instead of fanning out on every probe. A poll is bounded by
/// <see cref="CentralOptions.HealthTimeout"/> and repeats every <see cref="CentralOptions.HealthInterval"/>, so a status
/// is never older than <see cref="CentralOptions.MaxStatusAge"/>.
/// </summary>
public sealed partial class SiteHealthMonitor(
    SiteDirectory sites, SiteClient client, IOptions<CentralOptions> options, TimeProvider clock, ILogger<SiteHealthMonitor> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<string, SiteStatus> statuses = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<SiteStatus> Current => [.. sites.All.Select(site => statuses.TryGetValue(site.Id, out var status)
        ? status
        : new SiteStatus(site.Id, site.BaseAddress.ToString(), SiteStatus.Unknown, null, null, "not checked yet", null))];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(sites.All.Select(site => PollAsync(site, stoppingToken)));

    private async Task PollAsync(Site site, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HealthInterval.Value, clock);
        try
        {
            do
            {
                var status = await CheckAsync(site, stoppingToken);
                var previous = statuses.TryGetValue(site.Id, out var known) ? known.Status : SiteStatus.Unknown;
                statuses[site.Id] = status;
                if (previous != status.Status)
                    LogStatusChanged(logger, site.Id, previous, status.Status, status.Error);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<SiteStatus> CheckAsync(Site site, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        var lastContact = statuses.TryGetValue(site.Id, out var known) ? known.LastContactAt : null;
        try
        {
            var response = await client.GetAsync(site, "/v1/healthz", options.Value.HealthTimeout, stoppingToken);
            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var now = clock.GetUtcNow();
            var status = ReadStatus(response);
            var error = status is null ? $"HTTP {response.StatusCode} without a health body" : null;
            return new SiteStatus(site.Id, site.BaseAddress.ToString(), status ?? "unhealthy", Math.Round(latency, 1), now, error, now);
        }
        catch (SiteUnavailableException ex)
        {
            return new SiteStatus(site.Id, site.BaseAddress.ToString(), SiteStatus.Down, null, lastContact, ex.Message, clock.GetUtcNow());
        }
    }

    private static string? ReadStatus(SiteResponse response)
    {
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            if (!document.RootElement.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
                return null;
            // A LocalApi older than v2's response shapes says "healthy"; one word per state whatever the site's version.
            return status.GetString() is "healthy" ? SiteStatus.Ok : status.GetString();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Site {SiteId} is now {Status} (was {Previous}); error: {Error}")]
    private static partial void LogStatusChanged(ILogger logger, string siteId, string previous, string status, string? error);
}
