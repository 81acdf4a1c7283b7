using Microsoft.Extensions.Options;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.CentralApi.Queries;

/// <summary>
/// The site query contract (DESIGN.md §4.5) over every site: <c>site=&lt;id&gt;</c> forwards unchanged; without it (or
/// <c>site=all</c>) the sites are fanned out and merged, with <c>partial</c>/<c>site_errors</c> for sites that did not answer.
/// </summary>
internal static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Jobs").RequireRead();
        group.MapGet("/jobs", (HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, MergedListing listing, IOptions<CentralOptions> options) =>
            ListAsync(context, "/v1/jobs", sites, cache, fanOut, listing, options.Value));
        group.MapGet("/subjobs", (HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, MergedListing listing, IOptions<CentralOptions> options) =>
            ListAsync(context, "/v1/subjobs", sites, cache, fanOut, listing, options.Value));
        group.MapGet("/jobs/{jobId}", GetJobAsync);
        return routes;
    }

    internal static async Task<IResult> ListAsync(
        HttpContext context, string path, SiteDirectory sites, ResponseCache cache, FanOut fanOut, MergedListing listing, CentralOptions options)
    {
        var (selection, error) = SiteSelection.Parse(context.Request, sites);
        if (selection is null)
            return error!;
        var query = context.Request.Query;
        if (selection.Forward)
        {
            var pathAndQuery = path + QueryString.Create(SiteSelection.PassThrough(query));
            return await cache.ServeAsync(context, ct => fanOut.ForwardAsync(selection.Sites[0], pathAndQuery, options.ForwardTimeout.Value, ct));
        }
        var (limit, positions, invalid) = MergedListing.ParsePaging(query);
        if (invalid is not null)
            return TypedResults.Problem(invalid, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
        return await cache.ServeAsync(context, ct => listing.ListAsync(selection.Sites, path, query, limit, positions, ct));
    }

    /// <summary>Without <c>site</c>, every site is asked and the one that has the job answers.</summary>
    private static async Task<IResult> GetJobAsync(
        string jobId, HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, IOptions<CentralOptions> options)
    {
        var (selection, error) = SiteSelection.Parse(context.Request, sites);
        if (selection is null)
            return error!;
        var path = $"/v1/jobs/{Uri.EscapeDataString(jobId)}";
        if (selection.Forward)
            return await cache.ServeAsync(context, ct => fanOut.ForwardAsync(selection.Sites[0], path, options.Value.ForwardTimeout.Value, ct));
        return await cache.ServeAsync(context, async ct =>
        {
            var outcomes = await fanOut.GetAsync(selection.Sites.Select(site => (site, path)), ct);
            if (outcomes.FirstOrDefault(o => o.IsOk) is { } found)
                return new CentralResponse(found.Response!.StatusCode, found.Response.Body, found.Response.ContentType, Complete: true);
            if (outcomes.FirstOrDefault(o => o.IsBadRequest) is { } bad)
                return FanOut.BadRequest(bad);
            var errors = outcomes
                .Where(o => o.Response?.StatusCode != StatusCodes.Status404NotFound)
                .ToDictionary(o => o.Site.Id, o => o.Failure!);
            var detail = errors.Count == 0
                ? $"no job {jobId} on any site"
                : $"no job {jobId} on the sites that answered; {string.Join(", ", errors.Keys)} did not";
            return CentralResponse.Problem(StatusCodes.Status404NotFound, "Job not found", detail,
                new Dictionary<string, object?> { ["partial"] = errors.Count > 0, ["site_errors"] = errors });
        });
    }
}
