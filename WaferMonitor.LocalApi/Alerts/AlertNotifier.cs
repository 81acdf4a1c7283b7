using WaferMonitor.LocalApi.Storage;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Npgsql;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>An alert as Alertmanager's <c>POST /api/v2/alerts</c> takes it.</summary>
internal sealed record PostableAlert(
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string> Annotations,
    [property: JsonPropertyName("startsAt")] DateTimeOffset StartsAt,
    [property: JsonPropertyName("endsAt")] DateTimeOffset EndsAt,
    [property: JsonPropertyName("generatorURL")] string GeneratorUrl);

/// <summary>
/// Sends firing alerts to every configured Alertmanager when they fire and again each <c>Alerts:Cooldown</c>, and
/// resolved ones (with <c>endsAt</c>) once. When no Alertmanager accepts them it retries with doubling waits up to
/// <c>Alerts:MaxBackoff</c>; nothing here is on the ingest path.
/// </summary>
internal sealed partial class AlertNotifier(
    AlertBook book, AlertsMetrics metrics, AlertLinks links, [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, IHttpClientFactory clients,
    IOptions<AlertsOptions> options, TimeProvider clock, ILogger<AlertNotifier> logger) : BackgroundService
{
    public const string HttpClientName = "alertmanager";
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private const int AlertsPerRequest = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || settings.AlertmanagerUrls.Length == 0)
            return;
        var check = TimeSpan.FromTicks(Math.Min(settings.Cooldown.Value.Ticks, TimeSpan.FromSeconds(5).Ticks));
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = failures == 0 ? check
                : TimeSpan.FromTicks(Math.Min(settings.MaxBackoff.Value.Ticks, TimeSpan.FromSeconds(Math.Pow(2, Math.Min(failures - 1, 20))).Ticks));
            try
            {
                if (failures == 0)
                    await book.WaitForChangeAsync(wait, stoppingToken);
                else
                    await Task.Delay(wait, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = clock.GetUtcNow();
            var due = book.Due(now, settings.Cooldown.Value);
            if (due.Count == 0)
                continue;
            if (await SendAsync(due, now, stoppingToken))
            {
                failures = 0;
                book.Notified(due, now);
                await RecordNotifiedAsync(due, now, stoppingToken);
            }
            else
            {
                failures++;
            }
        }
    }

    /// <summary>True when at least one Alertmanager took every alert (the members of a cluster share what they receive).</summary>
    private async Task<bool> SendAsync(List<TrackedAlert> alerts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // Long enough to outlast the gap until the next re-send, so Alertmanager does not resolve a firing alert on its own.
        var firingEndsAt = now + 3 * settings.Cooldown.Value + settings.EvaluationInterval.Value;
        var payload = alerts.Select(a => new PostableAlert(a.Labels, a.Annotations, a.FiredAt ?? a.ActiveAt,
            a.State == TrackedAlert.Resolved ? a.ResolvedAt ?? now : firingEndsAt, links.Alerts(a.Rule))).ToList();
        var client = clients.CreateClient(HttpClientName);
        var anyAccepted = false;
        foreach (var url in settings.AlertmanagerUrls)
        {
            try
            {
                foreach (var chunk in payload.Chunk(AlertsPerRequest))
                {
                    using var response = await client.PostAsJsonAsync(new Uri(new Uri(url.TrimEnd('/') + "/"), "api/v2/alerts"), chunk, cancellationToken);
                    if (!response.IsSuccessStatusCode)
                        throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
                    metrics.Notification(sent: true);
                }
                anyAccepted = true;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                metrics.Notification(sent: false);
                LogSendFailed(url, alerts.Count, ex.Message);
            }
        }
        if (anyAccepted)
            LogSent(alerts.Count(a => a.State == TrackedAlert.Firing), alerts.Count(a => a.State == TrackedAlert.Resolved));
        return anyAccepted;
    }

    private async Task RecordNotifiedAsync(List<TrackedAlert> sent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = sent.Where(a => a.Id != 0).Select(a => a.Id).ToArray();
        if (ids.Length == 0)
            return;
        try
        {
            await using var command = dataSource.CreateCommand("UPDATE alert SET last_notified_at = @now WHERE alert_id = ANY(@ids)");
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("ids", ids);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            // Kept in memory; after a restart meanwhile such an alert is sent once more, which Alertmanager deduplicates.
            LogRecordFailed(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alertmanager {Url} did not take {Count} alerts: {Reason}")]
    private partial void LogSendFailed(string url, int count, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent {Firing} firing and {Resolved} resolved alerts to Alertmanager")]
    private partial void LogSent(int firing, int resolved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record when alerts were sent: {Reason}")]
    private partial void LogRecordFailed(string reason);
}
