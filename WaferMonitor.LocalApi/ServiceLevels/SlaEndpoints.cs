using WaferMonitor.ServiceDefaults.Security;
namespace WaferMonitor.LocalApi.ServiceLevels;

internal static class SlaEndpoints
{
    public static IEndpointRouteBuilder MapSlaEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Service levels").RequireRead()
            .MapGet("/sla", async (SlaQueries sla, CancellationToken ct) => TypedResults.Ok(await sla.GetAsync(ct)))
            .WithSummary("Each objective over the rolling window: measured, error budget left, burn rates, fast/slow burn")
            .Produces<SlaReport>();
        return routes;
    }
}
