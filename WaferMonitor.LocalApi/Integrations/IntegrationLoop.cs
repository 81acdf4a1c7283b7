using Npgsql;
using Polly;
using Polly.Retry;
using WaferMonitor.LocalApi.Streaming;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>
/// One integration's delivery loop: reads the stored events after its cursor in commit order (through the stream's
/// reader, <see cref="EventFeed.ReadCommittedAfterAsync"/>), hands the terminal ones its filter matches to its sink in
/// batches, and moves the persisted cursor after each batch the sink acknowledged. A failed batch is retried with
/// jittered exponential backoff until the sink takes it, so nothing is skipped while a sink is down.
/// </summary>
internal sealed partial class IntegrationLoop
{
    /// <summary>After a stop is requested, a delivery in flight gets this long to finish, so its acknowledgement is recorded.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly string name;
    private readonly IntegrationOptions options;
    private readonly IntegrationFilter filter;
    private readonly IIntegrationSink sink;
    private readonly IntegrationsOptions settings;
    private readonly NpgsqlDataSource dataSource;
    private readonly IntegrationCursors cursors;
    private readonly IntegrationMetrics metrics;
    private readonly BackgroundLoops loops;
    private readonly TimeProvider clock;
    private readonly ILogger logger;

    /// <summary>The greatest seq acknowledged (or skipped); null until read from <c>integration_cursor</c>.</summary>
    private long? cursor;

    public IntegrationLoop(string name, IntegrationOptions options, IIntegrationSink sink, IntegrationsOptions settings,
        NpgsqlDataSource dataSource, IntegrationCursors cursors, IntegrationMetrics metrics, BackgroundLoops loops,
        TimeProvider clock, ILogger logger)
    {
        this.name = name;
        this.options = options;
        filter = new IntegrationFilter(options);
        this.sink = sink;
        this.settings = settings;
        this.dataSource = dataSource;
        this.cursors = cursors;
        this.metrics = metrics;
        this.loops = loops;
        this.clock = clock;
        this.logger = logger;
    }

    /// <summary>The integration's name in metrics, logs, health and <c>integration_cursor</c>: <c>webhooks:ops</c>.</summary>
    public string Name => name;

    public string LoopName => $"integration:{name}";

    /// <summary>
    /// Reads (or, for a new integration, creates) the persisted cursor. Called before LocalApi takes requests, so
    /// <c>latest</c> cannot pass over events stored while the loop was starting.
    /// </summary>
    public async Task LoadCursorAsync(CancellationToken cancellationToken) =>
        cursor ??= await cursors.LoadAsync(name, options.StartAt == "earliest", cancellationToken);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var grace = new CancellationTokenSource();
        await using var onStop = stoppingToken.Register(() => grace.CancelAfter(StopGrace));
        var retry = DeliveryRetry();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LoadCursorAsync(stoppingToken);
                var page = await ReadPageAsync(cursor!.Value, stoppingToken);
                if (page.Count > 0)
                {
                    metrics.Lag(name, (page.Count < settings.PageSize ? page[^1].Seq : await cursors.LatestSeqAsync(stoppingToken)) - cursor.Value);
                    await DeliverAsync(page, retry, grace.Token, stoppingToken);
                    await cursors.SaveAsync(name, page[^1].Seq, CancellationToken.None);
                    cursor = page[^1].Seq;
                }
                metrics.Lag(name, page.Count < settings.PageSize ? 0 : await cursors.LatestSeqAsync(stoppingToken) - cursor.Value);
                loops.Succeeded(LoopName);
                failures = 0;
                if (page.Count < settings.PageSize)
                    await Task.Delay(settings.PollInterval.Value, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The site database (the sink's failures are retried inside the round): the cursor stays where it was
                // and the round is tried again.
                failures++;
                loops.Failed(LoopName, ex);
                LogRoundFailed(ex, name);
                try
                {
                    await Task.Delay(Backoff(failures), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<List<StoredEventRow>> ReadPageAsync(long after, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EventFeed.ReadCommittedAfterAsync(connection, after, settings.PageSize, row => row, cancellationToken);
    }

    /// <summary>Delivers the page's matching events in the sink's batches, recording each acknowledged batch.</summary>
    private async Task DeliverAsync(List<StoredEventRow> page, ResiliencePipeline retry,
        CancellationToken deliveryToken, CancellationToken stoppingToken)
    {
        var matching = page.Select(IntegrationEvent.FromTerminal).OfType<IntegrationEvent>().Where(filter.Matches).ToList();
        foreach (var batch in matching.Chunk(sink.MaxBatch))
        {
            stoppingToken.ThrowIfCancellationRequested();
            // The retry's waits end on stop; a delivery in flight gets the grace period, so what the sink took is recorded.
            await retry.ExecuteAsync(async _ => await sink.DeliverAsync(batch, deliveryToken), stoppingToken);
            await cursors.SaveAsync(name, batch[^1].Seq, CancellationToken.None);
            cursor = batch[^1].Seq;
            metrics.Sent(name, batch.Length);
            LogDelivered(name, batch.Length, batch[^1].Seq);
        }
    }

    private ResiliencePipeline DeliveryRetry() => new ResiliencePipelineBuilder { TimeProvider = clock }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = settings.RetryFirstDelay.Value,
            MaxDelay = settings.RetryMaxDelay.Value,
            OnRetry = args =>
            {
                metrics.Failed(name);
                loops.Failed(LoopName, args.Outcome.Exception!);
                LogDeliveryFailed(args.Outcome.Exception!, name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                return default;
            },
        })
        .Build();

    private TimeSpan Backoff(int failures) => TimeSpan.FromTicks(Math.Min(
        settings.RetryMaxDelay.Value.Ticks, settings.RetryFirstDelay.Value.Ticks << Math.Min(failures - 1, 16)));

    [LoggerMessage(EventName = "integration_delivered", Level = LogLevel.Debug,
        Message = "Integration {integration} delivered {events} events up to seq {seq}")]
    private partial void LogDelivered(string integration, int events, long seq);

    [LoggerMessage(EventName = "integration_delivery_failed", Level = LogLevel.Warning,
        Message = "Integration {integration}: delivery attempt {attempt} failed; retrying in {delay_s} s")]
    private partial void LogDeliveryFailed(Exception exception, string integration, int attempt, double delay_s);

    [LoggerMessage(EventName = "integration_round_failed", Level = LogLevel.Warning,
        Message = "Integration {integration}: reading or recording its place in the event log failed; trying again")]
    private partial void LogRoundFailed(Exception exception, string integration);
}
