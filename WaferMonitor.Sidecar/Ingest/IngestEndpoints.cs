using System.Diagnostics;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Telemetry;
using WaferMonitor.Sidecar.Forwarding;
using WaferMonitor.Sidecar.Spool;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Sidecar.Ingest;

/// <summary>Accepts events and answers 2xx only once they are fsync'd in the spool.</summary>
internal static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngestEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/ingest").WithTags("Ingest").RequireIngest();
        group.MapPost("/events", (HttpRequest request, SidecarIngest ingest, CancellationToken ct) => ingest.HandleAsync(request, batch: false, ct))
            .Accepts<WireEvent>("application/json");
        group.MapPost("/events:batch", (HttpRequest request, SidecarIngest ingest, CancellationToken ct) => ingest.HandleAsync(request, batch: true, ct))
            .Accepts<WireEvent[]>("application/json");
        return routes;
    }
}

internal sealed class SidecarIngest(
    SegmentSpool spool, SidecarMetrics metrics, IOptions<IngestOptions> ingest, IOptions<SidecarOptions> sidecar, TimeProvider clock)
{
    private const int RetryAfterSeconds = 5;
    private readonly IngestLimits limits = ingest.Value.ToLimits();

    public async Task<IResult> HandleAsync(HttpRequest request, bool batch, CancellationToken cancellationToken)
    {
        var read = await IngestRequestReader.ReadAsync(request, limits, sidecar.Value.SiteId, batch, clock, cancellationToken);
        if (read.Problem is not null)
        {
            metrics.Rejected("request");
            return read.Problem;
        }
        foreach (var rejected in read.Rejected)
            metrics.Rejected(rejected.Code);
        var receivedAt = clock.GetUtcNow();
        var receive = Activity.Current;
        var requestContext = receive is { IdFormat: ActivityIdFormat.W3C } ? receive.Context : (ActivityContext?)null;
        // The spool keeps each event's own trace context so the forwarder can link to it long after this request ended.
        var contexts = read.Items.Select(i => EventTraceContext.FromMetadata(i.Event) ?? requestContext).ToList();
        // Most events carry no context of their own: the request's is formatted once, not once per event.
        var requestTraceParent = requestContext is { } context ? EventTraceContext.ToTraceParent(context) : null;
        var records = read.Items.Select((item, index) => new SpoolRecord(receivedAt,
            contexts[index] is { } c ? (c == requestContext ? requestTraceParent : EventTraceContext.ToTraceParent(c)) : null, item.Raw)).ToList();
        var links = EventTraceContext.Links(contexts.Where(c => c != requestContext));
        foreach (var link in links)
            receive?.AddLink(link);
        using var append = SidecarTelemetry.Source.StartActivity("spool.append", ActivityKind.Internal, parentContext: default, links: links);
        append?.SetTag("wafermonitor.events", records.Count);
        try
        {
            await spool.AppendAsync(records, cancellationToken);
        }
        catch (SpoolFullException ex)
        {
            append?.SetStatus(ActivityStatusCode.Error, "spool full");
            metrics.SpoolFull();
            request.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Spool full");
        }
        // 200, not 202: v2's clients compare the status with 200.
        return batch
            ? TypedResults.Ok(new SidecarBatchIngestResponse(true, records.Count, 0, read.Rejected, Forwarded: 0, Spooled: records.Count))
            : TypedResults.Ok(new SidecarIngestResponse(true, "accepted", read.Items[0].Event.IdempotencyKey));
    }
}
