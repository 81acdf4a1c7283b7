using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.ServiceDefaults.Health;
using WaferMonitor.LocalApi.Ingest;

namespace WaferMonitor.LocalApi.Streaming;

internal abstract record SubscribeOutcome;

internal sealed record Subscribed(StreamSubscription Subscription) : SubscribeOutcome;

/// <summary>The requested position has left the replay window; the client must reload.</summary>
internal sealed record TooOld(long? OldestAvailableSeq) : SubscribeOutcome;

/// <summary>
/// The process's one database listener. It LISTENs on <see cref="EventStore.NotifyChannel"/>, whose payload is only a
/// watermark, reads every committed event after the last seq it has seen in pages, keeps the most recent ones in a ring
/// (the replay window) and fans them out to the stream's clients in seq order. While no client is connected it reads
/// nothing (reading back every stored event costs the database as much as a good part of storing it); the first client
/// to arrive reloads the ring from the table, which holds the same events.
/// </summary>
/// <remarks>
/// Reading "seq &gt; last seen" has no gaps because <see cref="EventStore"/> draws seqs only while holding the
/// commit-order advisory lock, which is released after the commit is visible. So once a seq is visible, every transaction
/// that drew a smaller one has already committed (and is visible to the same snapshot) or rolled back. Rolled-back seqs
/// are simply never seen, which is why the feed never waits for a "missing" seq.
/// </remarks>
internal sealed partial class EventFeed(
    NpgsqlDataSource dataSource, IOptions<StreamOptions> options, StreamMetrics metrics, BackgroundLoops loops, ILogger<EventFeed> logger)
    : BackgroundService
{
    public const string LoopName = "stream_listener";

    /// <summary>The listener's <c>application_name</c>, so operators (and tests) can find its backend.</summary>
    public const string ListenerApplicationName = "wafermonitor-stream-listener";

    /// <summary>
    /// An idle listener still reads the table this often: the query proves the connection alive (a silently dead
    /// socket would otherwise wait forever) and costs one index probe.
    /// </summary>
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    private const string SelectColumns = """
        SELECT e.seq, e.payload::text, e.entity_type, e.entity_id, e.parent_id, e.kind, e.payload -> 'app' ->> 'name',
               COALESCE(j.status, s.status)
        """;

    // entity_status is the projection's status when the feed read the row: right after the event's own transaction in
    // the live case, possibly later when catching up or preloading.
    private const string JoinProjections = """
        LEFT JOIN job j ON e.entity_type = 'job' AND j.job_id = e.entity_id
        LEFT JOIN subjob s ON e.entity_type = 'subjob' AND s.subjob_id = e.entity_id
        """;

    private readonly StreamOptions settings = options.Value;
    private readonly Lock gate = new();

    /// <summary>Held while the ring is read into from the table: by the feed loop, or by a first client reloading it.</summary>
    private readonly SemaphoreSlim reading = new(1, 1);

    /// <summary>Events were announced while no client was connected and not read: the ring is behind the table.</summary>
    private bool ringBehind;
    private readonly List<StreamSubscription> subscribers = [];
    private readonly FeedEvent[] ring = new FeedEvent[options.Value.ReplayWindow];
    private int ringStart;
    private int ringCount;

    /// <summary>
    /// Every committed event with a seq up to this one has been read (unless the ring is behind). Written while holding
    /// <see cref="reading"/>: by the feed loop, or by the first client reloading the ring (and at start-up, before both).
    /// </summary>
    private long lastSeq;

    /// <summary>Every event with a greater seq is in the ring (or not yet read); a client behind it gets a reset.</summary>
    private long floor;

    /// <summary>The greatest seq announced since the feed loop last took it (0 when none); set from Npgsql's notification callback.</summary>
    private long announced;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await PreloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public async Task<SubscribeOutcome> SubscribeAsync(StreamFilter filter, long? lastEventId, CancellationToken cancellationToken)
    {
        await reading.WaitAsync(cancellationToken);
        try
        {
            if (ringBehind)
            {
                await PreloadAsync(cancellationToken);
                ringBehind = false;
            }
            return Subscribe(filter, lastEventId);
        }
        finally
        {
            reading.Release();
        }
    }

    private SubscribeOutcome Subscribe(StreamFilter filter, long? lastEventId)
    {
        lock (gate)
        {
            var after = lastEventId ?? lastSeq;
            if (after < floor)
                return new TooOld(ringCount > 0 ? RingAt(0).Seq : null);
            var backlog = new List<FeedEvent>();
            for (var i = 0; i < ringCount; i++)
            {
                var e = RingAt(i);
                if (e.Seq > after && filter.Matches(e))
                    backlog.Add(e);
            }
            var subscription = new StreamSubscription(this, filter, after, backlog, settings.ClientQueueCapacity);
            subscribers.Add(subscription);
            metrics.ClientConnected();
            return new Subscribed(subscription);
        }
    }

    /// <summary>Disconnects a client the writer found too slow. Only the first reason for a client is counted.</summary>
    public void Drop(StreamSubscription subscription, string reason)
    {
        lock (gate)
        {
            if (!subscribers.Remove(subscription))
                return;
        }
        Dropped(subscription, reason);
    }

    public void Unsubscribe(StreamSubscription subscription)
    {
        lock (gate)
            subscribers.Remove(subscription);
        // A dropped client was removed already but stayed connected until its writer ended, so it counts down here too.
        metrics.ClientDisconnected();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand(
                    $"SET application_name = '{ListenerApplicationName}'; LISTEN {EventStore.NotifyChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                if (failures > 0)
                    LogListenerRestored(failures);
                failures = 0;
                loops.Succeeded(LoopName);
                // Listening first, then reading: whatever committed while no listener existed is read now, and whatever
                // commits from here on is announced.
                await CatchUpIfWatchedAsync(connection, stoppingToken);
                while (true)
                {
                    // Taking the announcement (not just peeking) means one catch-up per announcement at most, even if an
                    // announced row were never readable; notifications that arrive during a catch-up announce again.
                    if (Interlocked.Exchange(ref announced, 0) > lastSeq || !await connection.WaitAsync(IdleCheck, stoppingToken))
                        await CatchUpIfWatchedAsync(connection, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                failures++;
                loops.Failed(LoopName, ex);
                metrics.ListenerReconnected();
                var delay = TimeSpan.FromTicks(Math.Min(
                    settings.ReconnectMaxBackoff.Value.Ticks, FirstRetry.Ticks << Math.Min(failures - 1, 16)));
                LogListenerLost(ex, delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs args)
    {
        if (!long.TryParse(args.Payload, System.Globalization.CultureInfo.InvariantCulture, out var seq))
            return;
        var seen = Interlocked.Read(ref announced);
        while (seq > seen)
        {
            var previous = Interlocked.CompareExchange(ref announced, seq, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }

    /// <summary>
    /// Fills the replay window from the table, so clients can resume across a restart of this process, or after a time
    /// without clients. Replaces whatever the ring held.
    /// </summary>
    private async Task PreloadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            {SelectColumns}
            FROM (SELECT * FROM event ORDER BY seq DESC LIMIT @limit) e
            {JoinProjections}
            ORDER BY e.seq
            """, connection);
        command.Parameters.AddWithValue("limit", settings.ReplayWindow + 1);
        var rows = await ReadAsync(command, FeedEvent.From, cancellationToken);
        lock (gate)
        {
            // With one row more than the window, the oldest marks the floor; otherwise the table holds less than the
            // window and nothing before its first row can be replayed.
            if (rows.Count > settings.ReplayWindow)
            {
                floor = rows[0].Seq;
                rows.RemoveAt(0);
            }
            else
            {
                floor = rows.Count > 0 ? rows[0].Seq - 1 : 0;
            }
            lastSeq = floor;
            ringStart = 0;
            ringCount = 0;
            Publish(rows);
        }
    }

    /// <summary>
    /// Catches up when a client is connected. Otherwise marks the ring behind and only proves the listener's connection
    /// alive (a silently dead socket would otherwise miss every announcement once a client arrives).
    /// </summary>
    private async Task CatchUpIfWatchedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await reading.WaitAsync(cancellationToken);
        try
        {
            bool watched;
            lock (gate)
                watched = subscribers.Count > 0;
            if (watched)
            {
                await CatchUpAsync(connection, cancellationToken);
                return;
            }
            ringBehind = true;
            await using var probe = new NpgsqlCommand("SELECT 1", connection);
            await probe.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            reading.Release();
        }
    }

    private async Task CatchUpAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var page = await ReadCommittedAfterAsync(connection, lastSeq, settings.PageSize, FeedEvent.From, cancellationToken);
            if (page.Count > 0)
            {
                List<StreamSubscription> dropped;
                lock (gate)
                    dropped = Publish(page);
                foreach (var subscription in dropped)
                    Dropped(subscription, StreamMetrics.QueueFull);
            }
            if (page.Count < settings.PageSize)
                return;
        }
    }

    /// <summary>
    /// The committed events after <paramref name="afterSeq"/>, at most <paramref name="limit"/>, in seq order — which is
    /// commit order, without gaps that a later commit could fill (see the remarks above). The stream's catch-up and the
    /// outbound integrations both read through here, each mapping the rows to what it keeps.
    /// </summary>
    internal static async Task<List<T>> ReadCommittedAfterAsync<T>(
        NpgsqlConnection connection, long afterSeq, int limit, Func<StoredEventRow, T> map, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            {SelectColumns}
            FROM event e
            {JoinProjections}
            WHERE e.seq > @after
            ORDER BY e.seq
            LIMIT @limit
            """, connection);
        command.Parameters.AddWithValue("after", afterSeq);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAsync(command, map, cancellationToken);
    }

    private static async Task<List<T>> ReadAsync<T>(NpgsqlCommand command, Func<StoredEventRow, T> map, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(new StoredEventRow(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3),
                reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7))));
        }
        return rows;
    }

    /// <summary>Appends to the ring and offers to every client; returns the clients whose queue was full (already removed).</summary>
    private List<StreamSubscription> Publish(List<FeedEvent> page)
    {
        foreach (var e in page)
        {
            if (ringCount == ring.Length)
            {
                floor = ring[ringStart].Seq;
                ringStart = (ringStart + 1) % ring.Length;
                ringCount--;
            }
            ring[(ringStart + ringCount) % ring.Length] = e;
            ringCount++;
            lastSeq = e.Seq;
        }
        var full = new List<StreamSubscription>();
        foreach (var subscription in subscribers)
        {
            foreach (var e in page)
            {
                if (!subscription.TryOffer(e))
                {
                    full.Add(subscription);
                    break;
                }
            }
        }
        foreach (var subscription in full)
            subscribers.Remove(subscription);
        return full;
    }

    private FeedEvent RingAt(int index) => ring[(ringStart + index) % ring.Length];

    // Outside the lock: cancelling runs the writer's registrations synchronously.
    private void Dropped(StreamSubscription subscription, string reason)
    {
        metrics.ClientDropped(reason);
        LogClientDropped(reason);
        subscription.MarkDropped();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream listener lost; reconnecting in {DelayMs} ms and catching up from the table")]
    private partial void LogListenerLost(Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream listener re-established after {Failures} failed attempts")]
    private partial void LogListenerRestored(int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream client dropped: {Reason}")]
    private partial void LogClientDropped(string reason);
}
