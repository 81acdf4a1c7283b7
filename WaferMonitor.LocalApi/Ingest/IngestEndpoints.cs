using System.Diagnostics;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Compatibility;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Ingest;

internal static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngestEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/ingest").WithTags("Ingest").RequireIngest();
        group.MapPost("/events", IngestOne).Accepts<WireEvent>("application/json")
            .Produces<LocalIngestResponse>().ProducesProblem(400).ProducesProblem(413);
        group.MapPost("/events:batch", IngestBatch).Accepts<WireEvent[]>("application/json")
            .Produces<LocalBatchIngestResponse>().ProducesProblem(400).ProducesProblem(413);
        return routes;
    }

    private static async Task<IResult> IngestOne(HttpRequest request, IngestContext context, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var read = await context.ReadAsync(request, batch: false, cancellationToken);
        if (read.Problem is not null)
        {
            context.Metrics.RecordRejected(1);
            return read.Problem;
        }
        var stored = await context.Store.StoreAsync(read.Items, cancellationToken);
        if (stored.Rejected is [var refused])
            return TypedResults.Problem(refused.Error, statusCode: StatusCodes.Status400BadRequest, title: "Invalid event",
                extensions: new Dictionary<string, object?> { ["code"] = refused.Code });
        var key = read.Items[0].Event.IdempotencyKey;
        // 200, not 202: v2's clients compare the status with 200.
        return TypedResults.Ok(new LocalIngestResponse(true, stored.Accepted == 1 ? "accepted" : "duplicate", key,
            DurationField.Since(started)));
    }

    private static async Task<IResult> IngestBatch(HttpRequest request, IngestContext context, CancellationToken cancellationToken)
    {
        var read = await context.ReadAsync(request, batch: true, cancellationToken);
        if (read.Problem is not null)
            return read.Problem;
        context.Metrics.RecordRejected(read.Rejected.Count);
        var stored = await context.Store.StoreAsync(read.Items, cancellationToken);
        var rejected = stored.Rejected.Count == 0 ? read.Rejected : [.. read.Rejected.Concat(stored.Rejected).OrderBy(r => r.Index)];
        var total = read.Items.Count + read.Rejected.Count;
        var success = stored.Accepted + stored.Duplicates;
        return TypedResults.Ok(new LocalBatchIngestResponse(
            true, stored.Accepted, stored.Duplicates, rejected, total, success, Failed: total - success));
    }
}

/// <summary>What the ingest endpoints need, resolved once per request.</summary>
internal sealed class IngestContext(
    EventStore store, IngestMetrics metrics, IOptions<IngestOptions> ingest, IOptions<LocalApiOptions> site, TimeProvider clock)
{
    private readonly IngestLimits limits = ingest.Value.ToLimits();

    public EventStore Store => store;
    public IngestMetrics Metrics => metrics;

    public Task<IngestRequest> ReadAsync(HttpRequest request, bool batch, CancellationToken cancellationToken) =>
        IngestRequestReader.ReadAsync(request, limits, site.Value.SiteId, batch, clock, cancellationToken);
}
