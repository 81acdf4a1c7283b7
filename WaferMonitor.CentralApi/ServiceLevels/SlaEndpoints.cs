using WaferMonitor.ServiceDefaults.Security;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.CentralApi.ServiceLevels;

/// <summary>A site's <c>GET /v1/sla</c> answer.</summary>
public sealed record SiteSlaReport(string Scope, string Window, DateTimeOffset EvaluatedAt, List<SlaStatus> Objectives);

/// <summary>
/// Every site's service levels, and the fab's: each objective judged on the sites' summed counts; and CentralApi's own
/// requests' error rate and latency.
/// </summary>
public sealed record CentralSlaReport(
    string Scope, string? Window, DateTimeOffset EvaluatedAt, IReadOnlyList<SlaStatus> Objectives, CentralApiServiceLevels CentralApi,
    IReadOnlyDictionary<string, SiteSlaReport> Sites, bool Partial, IReadOnlyDictionary<string, string> SiteErrors);

/// <summary>
/// <c>GET /v1/sla</c> over every site (<c>site=</c> forwards to one). A site that does not answer is a site error, and
/// counts against nothing: its own canary records the outage, and its report shows it once it is reachable again.
/// CentralApi's own requests are judged apart (<see cref="OwnRequestRecorder"/>), not summed with the sites'.
/// </summary>
internal static class SlaEndpoints
{
    private const string Path = "/v1/sla";

    public static IEndpointRouteBuilder MapSlaEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Service levels").RequireRead().MapGet("/sla", GetAsync);
        return routes;
    }

    private static async Task<IResult> GetAsync(
        HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, OwnRequestRecorder own, TimeProvider clock,
        IOptions<CentralOptions> options)
    {
        var (selection, error) = SiteSelection.Parse(context.Request, sites);
        if (selection is null)
            return error!;
        if (selection.Forward)
            return await cache.ServeAsync(context, ct => fanOut.ForwardAsync(selection.Sites[0], Path, options.Value.ForwardTimeout.Value, ct));
        return await cache.ServeAsync(context, async ct =>
        {
            var outcomes = await fanOut.GetAsync(selection.Sites.Select(site => (site, Path)), ct);
            var (reports, errors) = FanOut.Collect(outcomes, "service levels", body => JsonSerializer.Deserialize<SiteSlaReport>(body, WireJson.Options)!);
            var window = reports.Values.Select(r => r.Window).FirstOrDefault();
            var combined = window is null ? [] : reports.Values
                .Where(r => r.Window == window)
                .SelectMany(r => r.Objectives)
                .GroupBy(o => o.Name, StringComparer.Ordinal)
                .Select(same => SlaCalculator.Combine([.. same], window))
                .ToList();
            return CentralResponse.Ok(new CentralSlaReport("central", window, clock.GetUtcNow(), combined, own.ServiceLevels(), reports, errors.Count > 0, errors),
                complete: errors.Count == 0);
        });
    }
}
