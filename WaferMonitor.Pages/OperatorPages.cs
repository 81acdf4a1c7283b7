using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Pages;

/// <summary>
/// The read-only operator pages. They are static files: the browser reads the service's own JSON API (<c>/v1/…</c>), so
/// the pages and the API are one truth and no page request touches the database or the ingest path. The files hold no
/// data, so they are served without a token; the data they read needs one, which the page asks for (docs/security.md).
/// </summary>
public static partial class OperatorPages
{
    public static IServiceCollection AddOperatorPages(this IServiceCollection services)
    {
        services.AddValidatedOptions<PagesOptions>(PagesOptions.SectionName);
        services.AddSingleton<PageAssets>();
        return services;
    }

    /// <summary>LocalApi: the site view at <c>/</c>, a job at <c>/jobs/{id}</c>, live from <c>/v1/stream</c>.</summary>
    public static IEndpointRouteBuilder MapSitePages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", (PageAssets assets, EndpointDataSource endpoints, IOptions<PagesOptions> options) =>
            Html(assets, "site.html", new PageConfig("site", "", null, options.Value.EffectiveTimeZone, Live: true, OptionalPanels(endpoints)))).AllowAnonymous();
        routes.MapGet("/jobs/{jobId}", (PageAssets assets, IOptions<PagesOptions> options) =>
            Html(assets, "job.html", new PageConfig("job", "", null, options.Value.EffectiveTimeZone, Live: true, []))).AllowAnonymous();
        return routes.MapAssets();
    }

    /// <summary>
    /// CentralApi: every site at <c>/</c>; a site's jobs at <c>/sites/{site}</c> and a job at <c>/sites/{site}/jobs/{id}</c>,
    /// read through CentralApi's forwarding (<c>site=</c>), refreshed by polling (CentralApi has no stream).
    /// </summary>
    public static IEndpointRouteBuilder MapCentralPages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", (PageAssets assets, IOptions<PagesOptions> options) =>
            Html(assets, "central.html", new PageConfig("central", "", null, options.Value.EffectiveTimeZone, Live: false, []))).AllowAnonymous();
        routes.MapGet("/sites/{site}", (string site, PageAssets assets, IOptions<PagesOptions> options) =>
            SiteId().IsMatch(site)
                ? Html(assets, "site.html", new PageConfig("site", $"/sites/{site}", site, options.Value.EffectiveTimeZone, Live: false, []))
                : TypedResults.NotFound()).AllowAnonymous();
        routes.MapGet("/sites/{site}/jobs/{jobId}", (string site, PageAssets assets, IOptions<PagesOptions> options) =>
            SiteId().IsMatch(site)
                ? Html(assets, "job.html", new PageConfig("job", $"/sites/{site}", site, options.Value.EffectiveTimeZone, Live: false, []))
                : TypedResults.NotFound()).AllowAnonymous();
        return routes.MapAssets();
    }

    private static IEndpointRouteBuilder MapAssets(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/assets/{**path}", (string path, PageAssets assets, HttpContext context) =>
        {
            if (assets.Find("assets/" + path) is not { } asset)
                return TypedResults.NotFound();
            // Revalidated on every load (a cheap 304), so a new build's files are picked up at once.
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(asset.Bytes, asset.ContentType, entityTag: asset.ETag);
        }).AllowAnonymous();
        return routes;
    }

    private static IResult Html(PageAssets assets, string page, PageConfig config)
    {
        var json = JsonSerializer.Serialize(config, PageConfigJson.Options);
        var html = assets.Text(page).Replace("<!--wm-config-->",
            $"<meta name=\"wm-config\" content=\"{System.Net.WebUtility.HtmlEncode(json)}\">", StringComparison.Ordinal);
        return TypedResults.Text(html, "text/html; charset=utf-8");
    }

    /// <summary>
    /// The panels whose API this service maps (<c>/v1/alerts</c>, <c>/v1/sidecars</c>): the page asks only for those, so a
    /// LocalApi without them shows no panel and the browser logs no 404.
    /// </summary>
    private static string[] OptionalPanels(EndpointDataSource endpoints) =>
        [.. endpoints.Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText?.Trim('/'))
            .Where(route => route is "v1/alerts" or "v1/sidecars")
            .Select(route => route![3..])
            .Distinct()];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex SiteId();

    /// <summary>What a page needs to know that the API does not say: where it is, whose site, which time zone.</summary>
    private sealed record PageConfig(string View, string Base, string? Site, string TimeZone, bool Live, string[] Panels);

    private static class PageConfigJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    }
}
