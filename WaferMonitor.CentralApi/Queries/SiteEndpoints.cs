using System.Diagnostics;
using WaferMonitor.CentralApi.Sites;

namespace WaferMonitor.CentralApi.Queries;

public sealed record SiteView(string SiteId, string Url, string Status, double? LatencyMs, string? Error);

/// <summary>Read-only views over the sites. <c>site=</c> forwards to that site's LocalApi with the same contract.</summary>
internal static class SiteEndpoints
{
    public const string HttpClientName = "sites";

    public static IEndpointRouteBuilder MapSiteEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Sites");
        group.MapGet("/sites", ListSites);
        group.MapGet("/jobs", (HttpContext context, SiteDirectory sites, IHttpClientFactory clients) => Forward(context, sites, clients, "/v1/jobs"));
        group.MapGet("/subjobs", (HttpContext context, SiteDirectory sites, IHttpClientFactory clients) => Forward(context, sites, clients, "/v1/subjobs"));
        group.MapGet("/jobs/{jobId}", (string jobId, HttpContext context, SiteDirectory sites, IHttpClientFactory clients) =>
            Forward(context, sites, clients, $"/v1/jobs/{Uri.EscapeDataString(jobId)}"));
        return routes;
    }

    private static async Task<IResult> ListSites(SiteDirectory sites, IHttpClientFactory clients, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(HttpClientName);
        var views = await Task.WhenAll(sites.All.Select(async site =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await client.GetAsync(new Uri(site.BaseAddress, "/v1/healthz"), timeout.Token);
                var body = await response.Content.ReadFromJsonAsync<HealthBody>(timeout.Token);
                return new SiteView(site.Id, site.BaseAddress.ToString(), body?.Status ?? "unhealthy",
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                return new SiteView(site.Id, site.BaseAddress.ToString(), "unreachable", null, ex.Message);
            }
        }));
        return TypedResults.Ok(new { sites = views });
    }

    private static async Task<IResult> Forward(HttpContext context, SiteDirectory sites, IHttpClientFactory clients, string path)
    {
        var siteId = context.Request.Query["site"].ToString();
        if (string.IsNullOrEmpty(siteId))
            return TypedResults.Problem("pass site=<site id>; see /v1/sites", statusCode: StatusCodes.Status400BadRequest, title: "Missing site");
        var site = sites.Find(siteId);
        if (site is null)
            return TypedResults.Problem($"no site '{siteId}'; see /v1/sites", statusCode: StatusCodes.Status404NotFound, title: "Unknown site");
        var query = QueryString.Create(context.Request.Query.Where(q => q.Key != "site"));
        var client = clients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.GetAsync(new Uri(site.BaseAddress, path + query), context.RequestAborted);
            var body = await response.Content.ReadAsStringAsync(context.RequestAborted);
            return TypedResults.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            return TypedResults.Problem($"site {site.Id} did not answer: {ex.Message}", statusCode: StatusCodes.Status502BadGateway, title: "Site unavailable");
        }
    }

    private sealed record HealthBody(string Status);
}
