using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>
/// The background task: takes batches from the queue and posts them to <c>/v1/ingest/events:batch</c>. A batch is
/// retried unchanged (same idempotency keys, so the sidecar stores it once) until it is delivered, refused, or the
/// client shuts down.
/// </summary>
internal sealed class EventSender(
    HttpClient http,
    MonitorOptions options,
    EventQueue queue,
    SdkTelemetry telemetry,
    TimeProvider time,
    ILogger logger)
{
    private readonly Uri _batchUri = new(options.SidecarUrl.AbsoluteUri.TrimEnd('/') + "/v1/ingest/events:batch");
    private bool _unavailable;

    /// <summary>Wakes the sender early: the queue holds a full batch.</summary>
    public WakeSignal Wake { get; } = new(time);

    /// <summary>Wakes the sender and cuts a retry delay short: someone waits for a flush.</summary>
    public WakeSignal Flush { get; } = new(time);

    public async Task RunAsync(CancellationToken stopping)
    {
        IReadOnlyList<QueuedEvent> batch = [];
        var failed = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (failed)
                    await Flush.WaitAsync(options.RetryInitialDelay, stopping).ConfigureAwait(false);
                else
                    await Wake.WaitAsync(options.FlushInterval, stopping).ConfigureAwait(false);
                failed = false;
                if (batch.Count == 0)
                    batch = queue.TakeBatch(options.MaxBatchSize, MonitorOptions.MaxBatchBytes);
                while (batch.Count > 0)
                {
                    await DeliverAsync(batch, stopping).ConfigureAwait(false);
                    queue.CompleteBatch();
                    batch = queue.TakeBatch(options.MaxBatchSize, MonitorOptions.MaxBatchBytes);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The batch stays in flight and is delivered again after a pause: losing it silently would be worse.
                Log.SenderFailed(logger, ex);
                failed = true;
            }
        }
    }

    private async Task DeliverAsync(IReadOnlyList<QueuedEvent> batch, CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            var outcome = await PostAsync(batch, stopping).ConfigureAwait(false);
            switch (outcome.Kind)
            {
                case OutcomeKind.Delivered:
                    Recovered();
                    Settle(batch, outcome.Result);
                    return;
                case OutcomeKind.TooLarge when batch.Count > 1:
                    Recovered();
                    var half = batch.Count / 2;
                    await DeliverAsync(batch.Take(half).ToList(), stopping).ConfigureAwait(false);
                    await DeliverAsync(batch.Skip(half).ToList(), stopping).ConfigureAwait(false);
                    return;
                case OutcomeKind.TooLarge:
                    Recovered();
                    DropAll(batch, DropReasons.TooLarge, outcome.Status);
                    return;
                case OutcomeKind.Refused:
                    Recovered();
                    DropAll(batch, DropReasons.Rejected, outcome.Status);
                    return;
                default:
                    var delay = RetryDelay(attempt, outcome.RetryAfter);
                    if (!_unavailable)
                    {
                        _unavailable = true;
                        Log.SidecarUnavailable(logger, options.SidecarUrl, outcome.Reason);
                    }
                    Log.RetryScheduled(logger, attempt, outcome.Reason, delay);
                    await Flush.WaitAsync(delay, stopping).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task<Outcome> PostAsync(IReadOnlyList<QueuedEvent> batch, CancellationToken stopping)
    {
        using var content = new ByteArrayContent(JoinAsArray(batch));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var timeout = new CancellationTokenSource(options.RequestTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            using var response = await http.PostAsync(_batchUri, content, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
                return Outcome.Delivered(await ReadResultAsync(response, linked.Token).ConfigureAwait(false));
            if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
                return new Outcome(OutcomeKind.TooLarge, status);
            if (status is 408 or 429 or >= 500)
                return Outcome.Retry($"HTTP {status}", RetryAfter(response));
            return new Outcome(OutcomeKind.Refused, status);
        }
        catch (HttpRequestException ex)
        {
            return Outcome.Retry(ex.Message, null);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return Outcome.Retry($"no answer within {options.RequestTimeout}", null);
        }
    }

    private static async Task<BatchIngestResult?> ReadResultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // A 2xx means the sidecar took the batch; a body we cannot read must not turn that into a resend.
        try
        {
            return await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private void Settle(IReadOnlyList<QueuedEvent> batch, BatchIngestResult? result)
    {
        var rejected = 0;
        foreach (var rejection in result?.Rejected ?? [])
        {
            var kind = rejection.Index >= 0 && rejection.Index < batch.Count ? batch[rejection.Index].Kind : "unknown";
            telemetry.Dropped(kind, DropReasons.Rejected);
            Log.EventRejected(logger, kind, rejection.Code, rejection.Error);
            rejected++;
        }
        telemetry.Sent(batch.Count - rejected);
    }

    private void DropAll(IReadOnlyList<QueuedEvent> batch, string reason, int status)
    {
        Log.BatchRefused(logger, batch.Count, status);
        foreach (var item in batch)
            telemetry.Dropped(item.Kind, reason);
    }

    private void Recovered()
    {
        if (!_unavailable)
            return;
        _unavailable = false;
        Log.SidecarRecovered(logger, options.SidecarUrl);
    }

    private TimeSpan RetryDelay(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } asked)
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > options.RetryMaxDelay ? options.RetryMaxDelay : asked;
        var exponential = options.RetryInitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, options.RetryMaxDelay.TotalMilliseconds);
        // Jitter so that many fab apps behind one recovering sidecar do not retry in lockstep.
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    private static byte[] JoinAsArray(IReadOnlyList<QueuedEvent> batch)
    {
        var length = 2 + batch.Sum(e => e.Json.Length) + Math.Max(0, batch.Count - 1);
        var buffer = new byte[length];
        var position = 0;
        buffer[position++] = (byte)'[';
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0)
                buffer[position++] = (byte)',';
            batch[i].Json.CopyTo(buffer, position);
            position += batch[i].Json.Length;
        }
        buffer[position] = (byte)']';
        return buffer;
    }

    private enum OutcomeKind { Delivered, Retry, TooLarge, Refused }

    private readonly record struct Outcome(
        OutcomeKind Kind,
        int Status = 0,
        string Reason = "",
        TimeSpan? RetryAfter = null,
        BatchIngestResult? Result = null)
    {
        public static Outcome Delivered(BatchIngestResult? result) => new(OutcomeKind.Delivered, Result: result);
        public static Outcome Retry(string reason, TimeSpan? retryAfter) => new(OutcomeKind.Retry, Reason: reason, RetryAfter: retryAfter);
    }
}
