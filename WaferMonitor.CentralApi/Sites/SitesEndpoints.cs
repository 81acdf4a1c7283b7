using Microsoft.AspNetCore.Http.HttpResults;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.CentralApi.Sites;

internal static class SitesEndpoints
{
    public static IEndpointRouteBuilder MapSitesEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Sites").RequireRead().MapGet("/sites", ListSites);
        return routes;
    }

    private static Ok<SitesView> ListSites(SiteHealthMonitor monitor)
    {
        var sites = monitor.Current;
        return TypedResults.Ok(new SitesView(sites, sites.Count));
    }

    /// <summary>Ours, and v2's <c>count</c> (each site also carries v2's <c>id</c> and <c>endpoint</c>).</summary>
    public sealed record SitesView(IReadOnlyList<SiteStatus> Sites, int Count);
}
