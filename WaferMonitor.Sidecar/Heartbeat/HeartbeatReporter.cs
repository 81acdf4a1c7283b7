using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.Sidecar.Spool;

namespace WaferMonitor.Sidecar.Heartbeat;

/// <summary>
/// Reports this Sidecar to its LocalApi every <c>Sidecar:HeartbeatInterval</c>: node name, version and what the spool
/// holds, so the site sees a backlog building up (<c>ingestion_lag</c>) or a Sidecar gone quiet (<c>sidecar_silent</c>).
/// A failed report is only logged: the next one says the same and more.
/// </summary>
internal sealed partial class HeartbeatReporter(
    SegmentSpool spool, DeadLetterStore deadLetters, IHttpClientFactory clients, IOptions<SidecarOptions> options,
    IOptions<ServiceIdentity> identity, IServer server, TimeProvider clock, ILogger<HeartbeatReporter> logger) : BackgroundService
{
    public const string HttpClientName = "heartbeat";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.HeartbeatInterval.Value <= TimeSpan.Zero)
            return;
        var node = settings.NodeName ?? Environment.MachineName;
        using var timer = new PeriodicTimer(settings.HeartbeatInterval.Value, clock);
        do
        {
            try
            {
                var status = spool.Status;
                var age = status.OldestReceivedAt is { } oldest ? Math.Max(0, (clock.GetUtcNow() - oldest).TotalSeconds) : (double?)null;
                var url = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
                var heartbeat = new SidecarHeartbeat(node, identity.Value.Version, url, status.Events, status.Bytes, age,
                    await deadLetters.CountAsync(stoppingToken));
                using var response = await clients.CreateClient(HttpClientName).PostAsJsonAsync(
                    new Uri(new Uri(settings.LocalApiUrl), "/v1/sidecars/heartbeat"), heartbeat, WireJson.Options, stoppingToken);
                if (!response.IsSuccessStatusCode)
                    LogFailed($"HTTP {(int)response.StatusCode}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !stoppingToken.IsCancellationRequested)
            {
                LogFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Heartbeat to LocalApi failed: {Reason}")]
    private partial void LogFailed(string reason);
}
