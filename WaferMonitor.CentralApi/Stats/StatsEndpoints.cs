using System.Text.Json;
using Microsoft.Extensions.Options;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.CentralApi.Stats;

/// <summary><c>/v1/stats</c>: forwarded with <c>site=&lt;id&gt;</c>; otherwise per-site stats plus a combined view.</summary>
internal static class StatsEndpoints
{
    private const string Path = "/v1/stats";

    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Stats").RequireRead().MapGet("/stats", GetStatsAsync);
        return routes;
    }

    private static async Task<IResult> GetStatsAsync(
        HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, IOptions<CentralOptions> options)
    {
        var (selection, error) = SiteSelection.Parse(context.Request, sites);
        if (selection is null)
            return error!;
        var pathAndQuery = Path + QueryString.Create(SiteSelection.PassThrough(context.Request.Query));
        if (selection.Forward)
            return await cache.ServeAsync(context, ct => fanOut.ForwardAsync(selection.Sites[0], pathAndQuery, options.Value.ForwardTimeout.Value, ct));
        return await cache.ServeAsync(context, async ct =>
        {
            var outcomes = await fanOut.GetAsync(selection.Sites.Select(site => (site, pathAndQuery)), ct);
            if (outcomes.FirstOrDefault(o => o.IsBadRequest) is { } bad)
                return FanOut.BadRequest(bad);
            var (perSite, errors) = FanOut.Collect(outcomes, "stats", body => JsonDocument.Parse(body).RootElement.Clone());
            var combined = StatsCombiner.Combine(perSite.Select(s => (s.Key, s.Value)));
            return CentralResponse.Ok(new CentralStats(perSite, combined, errors.Count > 0, errors), complete: errors.Count == 0);
        });
    }
}
