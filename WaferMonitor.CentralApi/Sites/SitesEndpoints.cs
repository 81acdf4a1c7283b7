using Microsoft.AspNetCore.Http.HttpResults;

namespace WaferMonitor.CentralApi.Sites;

internal static class SitesEndpoints
{
    public static IEndpointRouteBuilder MapSitesEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Sites").MapGet("/sites", ListSites);
        return routes;
    }

    private static Ok<SitesView> ListSites(SiteHealthMonitor monitor) => TypedResults.Ok(new SitesView(monitor.Current));

    public sealed record SitesView(IReadOnlyList<SiteStatus> Sites);
}
