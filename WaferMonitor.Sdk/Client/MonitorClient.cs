using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>
/// Records jobs and subjobs of a fab application and sends them to the WaferMonitor sidecar. Events go to a bounded
/// in-memory queue that a background task sends in batches, so recording never waits for the network and never
/// throws because the sidecar is slow, down or refusing. Create one per process (or register it with
/// <c>services.AddWaferMonitor()</c>) and dispose it at exit to drain the queue.
/// </summary>
public sealed class MonitorClient : IAsyncDisposable, IDisposable
{
    private readonly MonitorOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly EventQueue _queue;
    private readonly SdkTelemetry _telemetry;
    private readonly EventSender _sender;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sending;
    private readonly ConcurrentDictionary<MonitorScope, byte> _openScopes = new();
    private readonly ITimer _memorySampler;
    private readonly IngestLimits _limits = new();
    private int _disposed;

    /// <param name="options">Settings; copied, so later changes do not affect this client.</param>
    /// <param name="handler">HTTP handler to send with (tests, proxies); the client disposes it.</param>
    /// <param name="timeProvider">Clock for event timestamps, durations and delays.</param>
    /// <param name="logger">Where delivery problems are reported.</param>
    /// <exception cref="InvalidOperationException">An option is invalid; the message names the configuration key.</exception>
    public MonitorClient(
        MonitorOptions options,
        HttpMessageHandler? handler = null,
        TimeProvider? timeProvider = null,
        ILogger<MonitorClient>? logger = null)
        : this(options, handler, timeProvider, logger, new ProcessProbe())
    {
    }

    internal MonitorClient(
        MonitorOptions options,
        HttpMessageHandler? handler,
        TimeProvider? timeProvider,
        ILogger? logger,
        ProcessProbe probe)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Snapshot();
        _options.Validate();
        Time = timeProvider ?? TimeProvider.System;
        Probe = probe;
        _logger = logger ?? NullLogger.Instance;
        // A long-lived client must still notice a sidecar moving to another address (DNS), hence the connection lifetime.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (_options.ApiKey is { Length: > 0 } apiKey)
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        _queue = new EventQueue(_options.QueueCapacity);
        _telemetry = new SdkTelemetry(() => _queue.Count);
        _sender = new EventSender(_http, _options, _queue, _telemetry, Time, _logger);
        _sending = Task.Run(() => _sender.RunAsync(_stopping.Token));
        _memorySampler = Time.CreateTimer(_ => SampleMemory(), null, _options.MemorySampleInterval, _options.MemorySampleInterval);
    }

    public Uri SidecarUrl => _options.SidecarUrl;

    /// <summary>Site used by <see cref="StartJob(string, object?)"/>; null when none is configured.</summary>
    public string? SiteId => _options.SiteId;

    /// <summary>Application reported by <see cref="StartJob(string, object?)"/>.</summary>
    public AppRef App => _options.App!;

    /// <summary>
    /// Events that will never reach the sidecar: dropped from a full queue, refused by the sidecar, or still queued
    /// when the client was disposed. Also published as the counter <c>wafermonitor_sdk_events_dropped</c>.
    /// </summary>
    public long DroppedEvents => _telemetry.DroppedTotal;

    /// <summary>Events queued or being sent.</summary>
    public int PendingEvents => _queue.Count;

    internal TimeProvider Time { get; }

    internal ProcessProbe Probe { get; }

    internal SdkTelemetry Telemetry => _telemetry;

    /// <summary>Starts a job of the configured site and application.</summary>
    /// <exception cref="InvalidOperationException">No <see cref="MonitorOptions.SiteId"/> is configured.</exception>
    public MonitorScope StartJob(string businessKey, object? metadata = null)
    {
        var site = _options.SiteId
            ?? throw new InvalidOperationException($"{MonitorOptions.SectionName}:SiteId is not configured; pass the site to StartJob.");
        return StartJob(site, App, businessKey, metadata);
    }

    /// <summary>
    /// Starts a job and sends its <c>started</c> event. Dispose it (<c>await using</c>) or use
    /// <see cref="MonitorScope.RunAsync"/> to record its end.
    /// </summary>
    public MonitorScope StartJob(string siteId, AppRef app, string businessKey, object? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(siteId);
        ArgumentNullException.ThrowIfNull(app);
        ArgumentException.ThrowIfNullOrEmpty(businessKey);
        var entity = new EntityRef(EntityTypes.Job, NewEntityId(), BusinessKey: businessKey);
        return new MonitorScope(this, siteId, app, entity, metadata, parentActivity: null);
    }

    /// <summary>
    /// Queues an event built by the caller and delivers it like every other: for tools that keep one entity's id
    /// across several processes (the <c>wafermonitor</c> command line) and so cannot use a <see cref="MonitorScope"/>.
    /// Never throws because of telemetry; an event the sidecar refuses is counted in <see cref="DroppedEvents"/>.
    /// </summary>
    public void Record(WireEvent wireEvent)
    {
        ArgumentNullException.ThrowIfNull(wireEvent);
        if (Volatile.Read(ref _disposed) != 0)
        {
            _telemetry.Dropped(wireEvent.Event.Kind, DropReasons.Disposed);
            return;
        }
        Enqueue(wireEvent);
    }

    /// <summary>Waits until every event recorded before the call has been sent or dropped, at most <see cref="MonitorOptions.ShutdownTimeout"/>.</summary>
    /// <returns>True when everything was delivered or settled; false on timeout or cancellation.</returns>
    public Task<bool> FlushAsync(CancellationToken cancellationToken = default) =>
        FlushAsync(_options.ShutdownTimeout, cancellationToken);

    /// <summary>Waits until every event recorded before the call has been sent or dropped, at most <paramref name="timeout"/>.</summary>
    /// <returns>True when everything was delivered or settled; false on timeout or cancellation.</returns>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var target = _queue.LastSequence;
        using var timer = new CancellationTokenSource(timeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            while (true)
            {
                var changed = _queue.Changed;
                if (_queue.IsResolvedThrough(target))
                    return true;
                _sender.Wake.Set();
                _sender.Flush.Set();
                await changed.WaitAsync(linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return _queue.IsResolvedThrough(target);
        }
    }

    /// <summary>
    /// Drains the queue for at most <see cref="MonitorOptions.ShutdownTimeout"/>, then stops; what is left is counted in
    /// <see cref="DroppedEvents"/>. Events recorded afterwards are dropped.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await FlushAsync(_options.ShutdownTimeout).ConfigureAwait(false);
        await _memorySampler.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var undelivered = _queue.RemoveAll();
        foreach (var item in undelivered)
            _telemetry.Dropped(item.Kind, DropReasons.Shutdown);
        if (undelivered.Count > 0)
            Log.ShutdownDropped(_logger, undelivered.Count);
        _http.Dispose();
        _telemetry.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Same as <see cref="DisposeAsync"/>, blocking for at most about <see cref="MonitorOptions.ShutdownTimeout"/>.
    /// Exists because DI containers and <c>using</c> dispose synchronously; the sender never needs the blocked
    /// thread, so this cannot deadlock.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal Guid NewEntityId() => Guid.CreateVersion7(Time.GetUtcNow());

    internal void Track(MonitorScope scope) => _openScopes.TryAdd(scope, 0);

    internal void Untrack(MonitorScope scope) => _openScopes.TryRemove(scope, out _);

    internal Activity? StartActivity(EntityRef entity, string siteId, Activity? parent)
    {
        if (!_options.StartActivities || Volatile.Read(ref _disposed) != 0)
            return null;
        var activity = parent is null
            ? _telemetry.ActivitySource.StartActivity($"wafermonitor.{entity.Type}", ActivityKind.Internal)
            : _telemetry.ActivitySource.StartActivity($"wafermonitor.{entity.Type}", ActivityKind.Internal, parent.Context);
        if (activity is null)
            return null;
        activity.DisplayName = $"{entity.Type} {entity.BusinessKey ?? entity.SubKey}";
        activity.SetTag("wafermonitor.site_id", siteId);
        activity.SetTag("wafermonitor.entity_type", entity.Type);
        activity.SetTag("wafermonitor.entity_id", entity.Id.ToString());
        if (entity.ParentId is { } parentId)
            activity.SetTag("wafermonitor.parent_id", parentId.ToString());
        if (entity.BusinessKey is not null)
            activity.SetTag("wafermonitor.business_key", entity.BusinessKey);
        if (entity.SubKey is not null)
            activity.SetTag("wafermonitor.sub_key", entity.SubKey);
        return activity;
    }

    /// <summary>Builds, serializes and queues one event; every failure is counted and logged, never thrown.</summary>
    internal void Emit(
        MonitorScope scope,
        string kind,
        string status,
        IReadOnlyDictionary<string, double>? metrics,
        object? metadata,
        KeyValuePair<string, JsonNode?>[] sdkKeys)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            _telemetry.Dropped(kind, DropReasons.Disposed);
            return;
        }
        try
        {
            var trace = scope.Activity ?? Activity.Current;
            var body = MetadataWriter.Build(metadata, sdkKeys, trace, _limits.MaxMetadataBytes, out var oversized);
            if (oversized > 0)
                Log.MetadataTooLarge(_logger, kind, oversized, _limits.MaxMetadataBytes);
            var at = Time.GetUtcNow().ToUniversalTime();
            // Time-ordered (UUIDv7) like entity ids: LocalApi's key index then takes each new key beside the last ones
            // instead of on a random page of millions (docs/benchmarks.md, "bench scale").
            var wire = new WireEvent(
                Guid.CreateVersion7(at).ToString(),
                scope.SiteId,
                scope.App,
                scope.Entity,
                new EventBody(kind, at, status, metrics, body));
            Enqueue(wire);
        }
        catch (Exception ex)
        {
            _telemetry.Dropped(kind, DropReasons.Unserializable);
            Log.EmitFailed(_logger, ex, kind);
        }
    }

    private void Enqueue(WireEvent wire)
    {
        var kind = wire.Event.Kind;
        byte[] json;
        try
        {
            json = JsonSerializer.SerializeToUtf8Bytes(wire, WireJson.Options);
        }
        catch (Exception ex)
        {
            _telemetry.Dropped(kind, DropReasons.Unserializable);
            Log.EmitFailed(_logger, ex, kind);
            return;
        }
        var dropped = _queue.Enqueue(kind, wire.IdempotencyKey, json, out var queued);
        if (dropped is not null)
        {
            _telemetry.Dropped(dropped.Kind, _queue.IsClosed ? DropReasons.Disposed : DropReasons.QueueFull);
            var total = _telemetry.DroppedTotal;
            if (total == 1 || total % 1000 == 0)
                Log.QueueFull(_logger, _options.QueueCapacity, dropped.Kind, total);
        }
        if (queued >= _options.MaxBatchSize)
            _sender.Wake.Set();
    }

    private void SampleMemory()
    {
        if (_openScopes.IsEmpty)
            return;
        try
        {
            var workingSet = Probe.ReadWorkingSet();
            foreach (var scope in _openScopes.Keys)
                scope.ObserveWorkingSet(workingSet);
        }
        catch (Exception)
        {
            // An exception on a timer thread would end the host process; losing mem_max_mb samples is the lesser harm.
            _memorySampler.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
