using System.Text.Json;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Cli.Reporting;

/// <summary>
/// Sends one job's or subjob's events through the SDK's <see cref="MonitorClient"/> (queue, batches, retries), with
/// the entity id chosen here so that another invocation (<c>finish</c>, <c>fail</c>) can end what <c>start</c> began.
/// </summary>
internal sealed class EventReporter : IAsyncDisposable
{
    private readonly MonitorClient _client;
    private readonly DeliveryLog _log = new();
    private readonly TimeSpan _flushTimeout;

    public EventReporter(Target target, TimeSpan flushTimeout)
    {
        Target = target;
        _flushTimeout = flushTimeout;
        _client = new MonitorClient(new MonitorOptions
        {
            SidecarUrl = target.SidecarUrl,
            SiteId = target.Site,
            App = target.App,
            // We flush ourselves, bounded, at exit; disposing must not wait again.
            ShutdownTimeout = TimeSpan.Zero,
            StartActivities = false,
        }, logger: _log);
    }

    public Target Target { get; }

    public void Send(string kind, string status, IReadOnlyDictionary<string, double>? metrics, IReadOnlyDictionary<string, object?> metadata) =>
        _client.Record(new WireEvent(
            Guid.CreateVersion7().ToString(),
            Target.Site,
            Target.App,
            Target.Entity,
            new EventBody(kind, DateTimeOffset.UtcNow, status, metrics,
                metadata.Count == 0 ? null : JsonSerializer.SerializeToElement(metadata, WireJson.Options))));

    /// <summary>
    /// Waits for the queued events to reach the sidecar, at most the flush timeout, and no longer than one failed
    /// attempt: a sidecar that refuses connections must not hold the command's exit. Warns when events are lost.
    /// </summary>
    public async Task<bool> FlushAsync()
    {
        _log.Quiet = true;
        var failuresBefore = _log.FailedAttempts;
        using var giveUp = new CancellationTokenSource();
        var flushing = _client.FlushAsync(_flushTimeout, giveUp.Token);
        while (!flushing.IsCompleted)
        {
            if (_log.FailedAttempts > failuresBefore)
                await giveUp.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(flushing, Task.Delay(20)).ConfigureAwait(false);
        }
        var delivered = await flushing.ConfigureAwait(false);
        if (!delivered)
        {
            var reason = _log.LastFailure is { } failure ? $" ({failure})" : " (no answer in time)";
            Terminal.Warn($"sidecar {_client.SidecarUrl} unreachable{reason}: {_client.PendingEvents} events not delivered; the command is not affected");
        }
        else if (_client.DroppedEvents > 0)
        {
            Terminal.Warn($"the sidecar {_client.SidecarUrl} refused {_client.DroppedEvents} events");
        }
        return delivered;
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
