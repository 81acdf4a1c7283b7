using System.Diagnostics;
using System.Text.Json.Nodes;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>
/// One monitored job or subjob, from its <c>started</c> event to exactly one terminal event. Disposing it without an
/// outcome records success; <see cref="Run"/>/<see cref="RunAsync"/> also record an escaping exception, which a
/// plain <c>using</c> cannot see. Every member is thread-safe and none throws because of telemetry.
/// </summary>
public sealed class MonitorScope : IAsyncDisposable, IDisposable
{
    private readonly MonitorClient _client;
    private readonly Activity? _previousActivity;
    private readonly long _startTimestamp;
    private readonly CpuTimes _startCpu;
    private long _peakWorkingSet;
    private int _ended;

    internal MonitorScope(MonitorClient client, string siteId, AppRef app, EntityRef entity, object? metadata, Activity? parentActivity)
    {
        _client = client;
        SiteId = siteId;
        App = app;
        Entity = entity;
        _previousActivity = Activity.Current;
        Activity = client.StartActivity(entity, siteId, parentActivity);
        _startTimestamp = client.Time.GetTimestamp();
        _startCpu = client.Probe.ReadCpu();
        _peakWorkingSet = client.Probe.ReadWorkingSet();
        client.Track(this);
        client.Emit(this, EventKinds.Started, EntityStatuses.Running, metrics: null, metadata, []);
    }

    public string SiteId { get; }

    public AppRef App { get; }

    /// <summary>The entity as sent: type, id, parent id, business key or sub key.</summary>
    public EntityRef Entity { get; }

    public Guid Id => Entity.Id;

    /// <summary>The activity this scope started, when <see cref="MonitorOptions.StartActivities"/> is on and someone listens.</summary>
    public Activity? Activity { get; }

    /// <summary>True once a terminal event has been recorded.</summary>
    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>Starts a subjob of this scope; its events carry this scope's id as <c>parent_id</c>.</summary>
    public MonitorScope StartSubjob(string subKey, object? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(subKey);
        var entity = new EntityRef(EntityTypes.Subjob, _client.NewEntityId(), ParentId: Entity.Id, SubKey: subKey);
        return new MonitorScope(_client, SiteId, App, entity, metadata, Activity);
    }

    /// <summary>Records progress (a <c>progress</c> event); <paramref name="progress"/> goes to <c>metadata.progress</c>.</summary>
    public void Tick(double? progress = null, object? metadata = null)
    {
        if (IsEnded)
            return;
        KeyValuePair<string, JsonNode?>[] sdkKeys = progress is { } value && double.IsFinite(value)
            ? [new(MetadataWriter.Progress, JsonValue.Create(value))]
            : [];
        _client.Emit(this, EventKinds.Progress, EntityStatuses.Running, metrics: null, metadata, sdkKeys);
    }

    /// <summary>Records one named value (a <c>metric</c> event). Non-finite values are ignored: the wire format forbids them.</summary>
    public void Metric(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (IsEnded || !double.IsFinite(value))
            return;
        _client.Emit(this, EventKinds.Metric, EntityStatuses.Running,
            new Dictionary<string, double>(StringComparer.Ordinal) { [name] = value }, metadata: null, []);
    }

    /// <summary>Ends the scope as succeeded now, optionally with final metadata.</summary>
    public void Complete(object? metadata = null) =>
        End(EventKinds.Finished, EntityStatuses.Succeeded, metadata, [], exception: null);

    /// <summary>
    /// Groups this scope's failure, like Sentry's <c>fingerprint</c>: failures with the same parts (in the same app) form one
    /// error group whatever their messages say. Unset, the server groups by error type and the message with its ids,
    /// numbers and paths left out (docs/errors.md). Also used when <see cref="Run"/>/<see cref="RunAsync"/> record an exception.
    /// </summary>
    public IReadOnlyList<string>? Fingerprint { get; set; }

    /// <summary>
    /// Ends the scope as failed (an <c>error</c> event with <c>error_type</c> and <c>error</c>, and <c>fingerprint</c> when
    /// given here or set on <see cref="Fingerprint"/>).
    /// </summary>
    public void Fail(Exception exception, object? metadata = null, IReadOnlyList<string>? fingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        KeyValuePair<string, JsonNode?>[] sdkKeys =
        [
            new(MetadataWriter.ErrorType, JsonValue.Create(exception.GetType().FullName ?? exception.GetType().Name)),
            new(MetadataWriter.Error, JsonValue.Create(exception.Message)),
        ];
        if ((fingerprint ?? Fingerprint) is { Count: > 0 } parts)
            sdkKeys = [.. sdkKeys, new(MetadataWriter.Fingerprint, new JsonArray([.. parts.Select(p => (JsonNode?)JsonValue.Create(p))]))];
        End(EventKinds.Error, EntityStatuses.Failed, metadata, sdkKeys, exception);
    }

    /// <summary>Ends the scope as canceled.</summary>
    public void Cancel(object? metadata = null) =>
        End(EventKinds.Canceled, EntityStatuses.Canceled, metadata, [], exception: null);

    /// <summary>
    /// Runs <paramref name="body"/> in this scope and ends it: succeeded when it returns, canceled on
    /// <see cref="OperationCanceledException"/>, failed on any other exception, which is then rethrown.
    /// </summary>
    public void Run(Action<MonitorScope> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            body(this);
        }
        catch (Exception ex)
        {
            RecordException(ex);
            throw;
        }
        finally
        {
            Dispose();
        }
    }

    /// <inheritdoc cref="Run"/>
    public Task RunAsync(Func<MonitorScope, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return LeaveAmbient(RunCoreAsync(async scope =>
        {
            await body(scope).ConfigureAwait(false);
            return true;
        }));
    }

    /// <inheritdoc cref="Run"/>
    public Task<T> RunAsync<T>(Func<MonitorScope, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return LeaveAmbient(RunCoreAsync(body));
    }

    /// <summary>Records success unless an outcome was already recorded.</summary>
    public void Dispose() => Complete();

    /// <summary>Same as <see cref="Dispose"/>; synchronous on purpose, so restoring <see cref="Activity.Current"/> reaches the caller.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    internal void ObserveWorkingSet(long bytes)
    {
        var peak = Interlocked.Read(ref _peakWorkingSet);
        while (bytes > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakWorkingSet, bytes, peak);
            if (seen == peak)
                return;
            peak = seen;
        }
    }

    private async Task<T> RunCoreAsync<T>(Func<MonitorScope, Task<T>> body)
    {
        try
        {
            return await body(this).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RecordException(ex);
            throw;
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>
    /// The scope made its activity current in the caller's context when it started. An async method cannot change
    /// the caller's context when it finishes, so the caller's previous activity is restored here, as soon as the
    /// body has been started; the body keeps the scope's activity in its own context.
    /// </summary>
    private T LeaveAmbient<T>(T running)
    {
        if (Activity is not null && Activity.Current == Activity)
            Activity.Current = _previousActivity is { IsStopped: false } ? _previousActivity : null;
        return running;
    }

    private void RecordException(Exception exception)
    {
        if (exception is OperationCanceledException)
            Cancel();
        else
            Fail(exception);
    }

    private void End(string kind, string status, object? metadata, KeyValuePair<string, JsonNode?>[] sdkKeys, Exception? exception)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
            return;
        _client.Untrack(this);
        var metrics = MeasureMetrics();
        _client.Emit(this, kind, status, metrics, metadata, sdkKeys);
        if (Activity is null)
            return;
        if (exception is not null)
        {
            Activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            Activity.AddException(exception);
        }
        else if (status == EntityStatuses.Canceled)
        {
            Activity.SetStatus(ActivityStatusCode.Error, "canceled");
        }
        Activity.SetTag("wafermonitor.status", status);
        LeaveAmbient(Activity);
        Activity.Stop();
    }

    private Dictionary<string, double> MeasureMetrics()
    {
        ObserveWorkingSet(_client.Probe.ReadWorkingSet());
        var cpu = _client.Probe.ReadCpu();
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.DurationSeconds] = _client.Time.GetElapsedTime(_startTimestamp).TotalSeconds,
            [MetricNames.CpuUserSeconds] = Math.Max(0, (cpu.User - _startCpu.User).TotalSeconds),
            [MetricNames.CpuSystemSeconds] = Math.Max(0, (cpu.System - _startCpu.System).TotalSeconds),
            [MetricNames.MemMaxMb] = Interlocked.Read(ref _peakWorkingSet) / (1024.0 * 1024.0),
        };
    }
}
