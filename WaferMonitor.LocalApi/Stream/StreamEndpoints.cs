using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Streaming;

internal static class StreamEndpoints
{
    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Stream").RequireRead()
            // The pages follow the stream with EventSource, which cannot send a header.
            .WithMetadata(new QueryStringTokenMetadata())
            .MapGet("/stream", OpenStream).Produces(StatusCodes.Status200OK, contentType: "text/event-stream").ProducesProblem(400);
        return routes;
    }

    private static IResult OpenStream(
        HttpRequest request, EventFeed feed, IOptions<StreamOptions> options, IHostApplicationLifetime lifetime)
    {
        var (filter, error) = StreamFilter.Parse(request.Query);
        if (filter is null)
            return BadParameter(error!);
        // The header wins: a browser's EventSource reconnects to the same URL and sends the id it saw last.
        var header = request.Headers["Last-Event-ID"].ToString();
        var (name, text) = header.Length > 0 ? ("Last-Event-ID", header) : ("last_event_id", request.Query["last_event_id"].ToString());
        long? lastEventId = null;
        if (text.Length > 0)
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return BadParameter($"{name} '{text}' is not an event id (a non-negative integer)");
            lastEventId = id;
        }
        return new EventStreamResult(feed, filter, lastEventId, options.Value, lifetime.ApplicationStopping);
    }

    private static ProblemHttpResult BadParameter(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
}

/// <summary>
/// Writes one client's stream: a reset when its position is gone, else the backlog and then live events, a heartbeat
/// comment when idle. A write that blocks longer than <see cref="StreamOptions.WriteTimeout"/>, or a queue the feed
/// found full, disconnects the client.
/// </summary>
internal sealed class EventStreamResult(
    EventFeed feed, StreamFilter filter, long? lastEventId, StreamOptions options, CancellationToken stopping) : IResult
{
    private static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();

    public async Task ExecuteAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var writer = response.BodyWriter;

        var outcome = await feed.SubscribeAsync(filter, lastEventId, context.RequestAborted);
        if (outcome is TooOld tooOld)
        {
            await SendAsync(writer, ResetFrame(tooOld.OldestAvailableSeq), context.RequestAborted);
            return;
        }
        using var subscription = ((Subscribed)outcome).Subscription;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, subscription.Dropped, stopping);
        try
        {
            await writer.FlushAsync(stop.Token);
            foreach (var e in subscription.Backlog)
                await SendAsync(writer, e.Frame, stop.Token);
            await PumpAsync(writer, subscription.Reader, stop.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            feed.Drop(subscription, StreamMetrics.WriteTimeout);
            context.Abort();
        }
        catch (OperationCanceledException) when (subscription.Dropped.IsCancellationRequested)
        {
            context.Abort();
        }
        catch (OperationCanceledException)
        {
            // The client left or the service is stopping: a normal end.
        }
    }

    private async Task PumpAsync(PipeWriter writer, System.Threading.Channels.ChannelReader<FeedEvent> reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            while (reader.TryRead(out var e))
                await SendAsync(writer, e.Frame, cancellationToken);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(options.HeartbeatInterval.Value);
            try
            {
                await reader.WaitToReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await SendAsync(writer, Heartbeat, cancellationToken);
            }
        }
    }

    /// <summary>Writes and flushes one message; a flush still blocked after the write timeout throws.</summary>
    private async Task SendAsync(PipeWriter writer, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.WriteTimeout.Value);
        var result = await writer.WriteAsync(frame, timeout.Token);
        if (result.IsCanceled)
            throw new OperationCanceledException(timeout.Token);
    }

    private static byte[] ResetFrame(long? oldestAvailableSeq)
    {
        var data = JsonSerializer.Serialize(new ResetMessage(
            "Last-Event-ID is older than the replay window; reload the current state, then reconnect without Last-Event-ID",
            oldestAvailableSeq), WireJson.Options);
        return System.Text.Encoding.UTF8.GetBytes($"event: reset\ndata: {data}\n\n");
    }

    private sealed record ResetMessage(string Reason, long? OldestAvailableSeq);
}
