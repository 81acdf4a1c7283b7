using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Sidecar.Spool;

public sealed record SpoolView(long Events, long Bytes, long CapacityBytes, int Segments, DateTimeOffset? OldestReceivedAt, double? OldestAgeSeconds, long DeadLetters);

public sealed record ReplayResult(int Requeued);

internal static class SpoolEndpoints
{
    public static IEndpointRouteBuilder MapSpoolEndpoints(this IEndpointRouteBuilder routes)
    {
        // Reading the spool needs a read token; replaying dead letters changes what is forwarded, so it needs admin.
        var group = routes.MapGroup("/v1/spool").WithTags("Spool");
        group.MapGet("", async (SegmentSpool spool, DeadLetterStore deadLetters, TimeProvider clock, CancellationToken ct) =>
        {
            var status = spool.Status;
            var age = status.OldestReceivedAt is { } oldest ? (clock.GetUtcNow() - oldest).TotalSeconds : (double?)null;
            return TypedResults.Ok(new SpoolView(status.Events, status.Bytes, spool.Capacity, status.Segments, status.OldestReceivedAt, age,
                await deadLetters.CountAsync(ct)));
        }).RequireRead();
        group.MapPost("/dead-letters:replay", async (DeadLetterStore deadLetters, CancellationToken ct) =>
            TypedResults.Ok(new ReplayResult(await deadLetters.ReplayAsync(ct)))).RequireAdmin();
        return routes;
    }
}
