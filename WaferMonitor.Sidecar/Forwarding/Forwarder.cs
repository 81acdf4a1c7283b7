using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Telemetry;
using WaferMonitor.Sidecar.Spool;

namespace WaferMonitor.Sidecar.Forwarding;

/// <summary>
/// Drains the spool to LocalApi, a stretch of up to <see cref="ForwarderOptions.Lanes"/> batches at a time: the stretch
/// is dealt to lanes by job, the lanes are delivered side by side, each lane's share as one batch (split only where it
/// would pass the ingest limits), and the stretch is committed (its segments eventually deleted) only after LocalApi
/// answered for every event in it. So the events of one job reach LocalApi in spool order. Per-event rejections go to
/// the dead-letter file; a 413 or 400 splits the batch until the offending event stands alone; anything transient is
/// retried with backoff, indefinitely.
/// </summary>
internal sealed partial class Forwarder(
    SegmentSpool spool,
    DeadLetterStore deadLetters,
    IHttpClientFactory httpClientFactory,
    IOptions<SidecarOptions> sidecar,
    IOptions<ForwarderOptions> options,
    IOptions<IngestOptions> ingest,
    SidecarMetrics metrics,
    ForwarderState state,
    TimeProvider clock,
    ILogger<Forwarder> logger) : BackgroundService
{
    public const string HttpClientName = "localapi";

    /// <summary>How long one batch may take to be answered; a timeout is retried like any transient failure.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A batch answered 500 this many times in a row is taken for poison rather than bad luck, and split.</summary>
    internal const int ServerErrorsBeforeSplit = 3;

    /// <summary>Stretches read ahead while earlier ones are still being delivered.</summary>
    private const int StretchesAhead = 1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        // A job always goes to the same lane and each lane delivers its parts one after another, in spool order, so the
        // next stretch can start while lanes still deliver the last one without reordering any job's events.
        var laneTails = Enumerable.Repeat(Task.CompletedTask, settings.Lanes).ToArray();
        var delivering = Channel.CreateBounded<(SpoolBatch Stretch, Task Delivered)>(StretchesAhead);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var committing = CommitInOrderAsync(delivering.Reader, failed);
        try
        {
            while (!failed.IsCancellationRequested)
            {
                var stretch = await spool.ReadBatchAsync(
                    settings.BatchSize * settings.Lanes, settings.BatchBytes * settings.Lanes, settings.Linger.Value, failed.Token);
                if (stretch.Records.Count == 0)
                    continue;
                var lanes = ForwardingLanes.Deal(stretch.Records, settings.Lanes);
                for (var lane = 0; lane < lanes.Length; lane++)
                {
                    if (lanes[lane].Count > 0)
                        laneTails[lane] = DeliverLaneAsync(laneTails[lane], lanes[lane], settings, failed.Token);
                }
                // Done when every lane has delivered everything up to and including this stretch.
                await delivering.Writer.WriteAsync((stretch, Task.WhenAll(laneTails)), failed.Token);
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested)
        {
        }
        delivering.Writer.TryComplete();
        await committing;
    }

    /// <summary>Commits stretches in spool order as their delivery completes; a failed delivery stops the reading too.</summary>
    private async Task CommitInOrderAsync(ChannelReader<(SpoolBatch Stretch, Task Delivered)> delivered, CancellationTokenSource failed)
    {
        try
        {
            await foreach (var (stretch, delivery) in delivered.ReadAllAsync())
            {
                await delivery;
                spool.Commit(stretch.End, stretch.Records.Count);
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested)
        {
        }
        catch
        {
            await failed.CancelAsync();
            throw;
        }
    }

    private async Task DeliverLaneAsync(Task previous, List<SpoolRecord> lane, ForwarderOptions settings, CancellationToken cancellationToken)
    {
        await previous;
        // Dealing by job fills lanes unevenly: in the ingest benchmark's stretches of 4 × 2000, most lanes get 1,700 to
        // 2,300 events and half pass 2000. Cut at BatchSize, those sent a small remainder batch that cost LocalApi and
        // PostgreSQL a whole batch's fixed work; so a share goes whole, up to what LocalApi takes in one request.
        foreach (var batch in ForwardingLanes.Batches(lane, ingest.Value.MaxBatchEvents, settings.BatchBytes))
        {
            using var span = SidecarTelemetry.Source.StartActivity("forward.batch", ActivityKind.Internal, parentContext: default,
                links: EventTraceContext.Links(batch.Select(r => EventTraceContext.FromTraceParent(r.TraceParent))));
            span?.SetTag("wafermonitor.events", batch.Count);
            await DeliverAsync(batch, cancellationToken);
        }
    }

    /// <summary>Returns once LocalApi has answered for every record (accepted, duplicate or dead-lettered).</summary>
    private async Task DeliverAsync(IReadOnlyList<SpoolRecord> records, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        var serverErrors = 0;
        while (true)
        {
            var outcome = await SendAsync(records, cancellationToken);
            if (outcome is ServerError error && ++serverErrors >= ServerErrorsBeforeSplit
                && (records.Count > 1 || await LocalApiHealthyAsync(cancellationToken)))
            {
                // The same batch failing again and again while LocalApi is otherwise well: an event in it breaks LocalApi.
                outcome = new Split("server_error", error.Reason);
            }
            switch (outcome)
            {
                case Delivered delivered:
                    state.Reachable(null);
                    await HandleRejectionsAsync(records, delivered.Result, cancellationToken);
                    var now = clock.GetUtcNow();
                    metrics.Forwarded(records.Count - delivered.Result.Rejected.Count);
                    metrics.Latency(now - records[0].ReceivedAt);
                    return;
                case Split when records.Count > 1:
                    var half = records.Count / 2;
                    await DeliverAsync(records.Take(half).ToList(), cancellationToken);
                    await DeliverAsync(records.Skip(half).ToList(), cancellationToken);
                    return;
                case Split split:
                    state.Reachable(null);
                    state.DeadLettered(1, split.Code, clock.GetUtcNow());
                    await deadLetters.AddAsync([(records[0], split.Code, split.Reason)], cancellationToken);
                    metrics.Rejected(split.Code);
                    metrics.DeadLettered(1);
                    LogDeadLettered(1, split.Code);
                    return;
                case Retry retry:
                    state.Reachable(retry.Reason);
                    LogRetrying(records.Count, retry.Reason, backoff.TotalSeconds);
                    await Task.Delay(retry.After is { } after && after > backoff ? after : backoff, clock, cancellationToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.Value.MaxBackoff.Value.Ticks));
                    break;
            }
        }
    }

    /// <summary>
    /// Whether LocalApi answers its readiness probe (database included): a single event that keeps getting 500 from a
    /// healthy LocalApi is dead-lettered; from an unhealthy one it waits, because then nothing would be stored.
    /// </summary>
    private async Task<bool> LocalApiHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName)
                .GetAsync(new Uri(new Uri(sidecar.Value.LocalApiUrl), "/health"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task HandleRejectionsAsync(IReadOnlyList<SpoolRecord> records, BatchIngestResult result, CancellationToken cancellationToken)
    {
        if (result.Rejected.Count == 0)
            return;
        var letters = result.Rejected
            .Where(r => r.Index >= 0 && r.Index < records.Count)
            .Select(r => (records[r.Index], r.Code, r.Error))
            .ToList();
        if (letters.Count == 0)
            return;
        await deadLetters.AddAsync(letters, cancellationToken);
        state.DeadLettered(letters.Count, letters[0].Code, clock.GetUtcNow());
        foreach (var group in letters.GroupBy(l => l.Code))
            metrics.Rejected(group.Key, group.Count());
        metrics.DeadLettered(letters.Count);
        LogDeadLettered(letters.Count, string.Join(",", letters.Select(l => l.Code).Distinct()));
    }

    private async Task<SendOutcome> SendAsync(IReadOnlyList<SpoolRecord> records, CancellationToken cancellationToken)
    {
        // Pooled: a batch body is hundreds of kilobytes, and a fresh array each time would land on the large object heap.
        // It goes back to the pool only after a 200, when LocalApi has read all of it; after an early answer (a 413 is
        // sent before the body is read) the client may still be sending it.
        var length = records.Sum(r => r.EventJson.Length + 1) + 1;
        var body = ArrayPool<byte>.Shared.Rent(length);
        var at = 0;
        body[at++] = (byte)'[';
        for (var i = 0; i < records.Count; i++)
        {
            if (i > 0)
                body[at++] = (byte)',';
            records[i].EventJson.CopyTo(body, at);
            at += records[i].EventJson.Length;
        }
        body[at++] = (byte)']';
        using var content = new ByteArrayContent(body, 0, at);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var client = httpClientFactory.CreateClient(HttpClientName);
        try
        {
            using var response = await client.PostAsync(new Uri(new Uri(sidecar.Value.LocalApiUrl), "/v1/ingest/events:batch"), content, cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ArrayPool<byte>.Shared.Return(body);
                var result = await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options, cancellationToken);
                return result is null ? new Retry("LocalApi answered 200 without a result", null) : new Delivered(result);
            }
            var detail = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            return response.StatusCode switch
            {
                HttpStatusCode.RequestEntityTooLarge => new Split("too_large", $"LocalApi answered 413: {detail}"),
                HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableContent => new Split(RejectionCodes.Invalid, $"LocalApi answered {status}: {detail}"),
                // 503 is LocalApi's word for "temporarily": its database is down or it is starting or stopping.
                >= HttpStatusCode.InternalServerError when response.StatusCode != HttpStatusCode.ServiceUnavailable
                    => new ServerError($"LocalApi answered {status}: {detail}", response.Headers.RetryAfter?.Delta),
                // 408, 429, 503; and 401, 403, 404, 415: about the Sidecar's configuration, not the events, so splitting
                // would dead-letter valid events. Retried until an operator fixes it (health says why).
                _ => new Retry($"LocalApi answered {status}: {Shorten(detail)}", response.Headers.RetryAfter?.Delta),
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new Retry($"LocalApi unreachable: {ex.Message}", null);
        }
    }

    private abstract record SendOutcome;
    private sealed record Delivered(BatchIngestResult Result) : SendOutcome;
    private sealed record Split(string Code, string Reason) : SendOutcome;
    private record Retry(string Reason, TimeSpan? After) : SendOutcome;

    /// <summary>A 5xx other than 503: retried, and split once it repeats (<see cref="ServerErrorsBeforeSplit"/>).</summary>
    private sealed record ServerError(string Reason, TimeSpan? After) : Retry(Reason, After);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding {Count} events failed ({Reason}); retrying in {BackoffSeconds}s")]
    private partial void LogRetrying(int count, string reason, double backoffSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} events dead-lettered ({Codes})")]
    private partial void LogDeadLettered(int count, string codes);
}

/// <summary>Whether the last delivery attempt reached LocalApi, and the latest dead letters; read by the health check.</summary>
internal sealed class ForwarderState
{
    private volatile string? lastError;
    private volatile DeadLetterNote? lastDeadLetter;
    private long deadLettered;

    public string? LastError => lastError;
    public void Reachable(string? error) => lastError = error;

    /// <summary>Events dead-lettered since the Sidecar started, and the latest.</summary>
    public (long Count, DeadLetterNote? Last) DeadLetters => (Interlocked.Read(ref deadLettered), lastDeadLetter);

    public void DeadLettered(int count, string code, DateTimeOffset at)
    {
        Interlocked.Add(ref deadLettered, count);
        lastDeadLetter = new DeadLetterNote(code, at);
    }
}

internal sealed record DeadLetterNote(string Code, DateTimeOffset At);
