using Microsoft.Extensions.Options;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.CentralApi.Alerts;

/// <summary>
/// <c>GET /v1/alerts</c> over every site: each site's alerts page merged newest first by when the alert was stored, with
/// the same <c>site=</c>, merged cursor and <c>partial</c>/<c>site_errors</c> rules as <c>/v1/jobs</c>.
/// </summary>
internal static class AlertsEndpoints
{
    public static IEndpointRouteBuilder MapAlertsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Alerts").RequireRead().MapGet("/alerts",
            (HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, MergedListing listing, IOptions<CentralOptions> options) =>
                JobsEndpoints.ListAsync(context, "/v1/alerts", sites, cache, fanOut, listing, options.Value));
        return routes;
    }
}
