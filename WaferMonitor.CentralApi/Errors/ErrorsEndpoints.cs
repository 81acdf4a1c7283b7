using WaferMonitor.ServiceDefaults.Security;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Compatibility;

namespace WaferMonitor.CentralApi.Errors;

/// <summary>
/// <c>GET /v1/errors</c> over every site, merged by fingerprint (<see cref="ErrorGroupMerger"/>), and
/// <c>GET /v1/errors/{fingerprint}</c>'s occurrences merged like <c>/v1/jobs</c>; <c>site=</c>, <c>partial</c> and
/// <c>site_errors</c> as there.
/// </summary>
internal static class ErrorsEndpoints
{
    private static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);
    private const int DefaultLimit = 100;
    /// <summary>What each site is asked for: every group it has, so that the merged top groups are right.</summary>
    private const int SiteLimit = 1000;

    public static IEndpointRouteBuilder MapErrorsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Errors").RequireRead();
        group.MapGet("/errors", ListGroupsAsync);
        group.MapGet("/errors/{fingerprint}", (string fingerprint, HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut,
            MergedListing listing, IOptions<CentralOptions> options) =>
            JobsEndpoints.ListAsync(context, $"/v1/errors/{Uri.EscapeDataString(fingerprint)}", sites, cache, fanOut, listing, options.Value));
        return routes;
    }

    private static async Task<IResult> ListGroupsAsync(
        HttpContext context, SiteDirectory sites, ResponseCache cache, FanOut fanOut, TimeProvider clock, IOptions<CentralOptions> options)
    {
        var (selection, error) = SiteSelection.Parse(context.Request, sites);
        if (selection is null)
            return error!;
        var query = context.Request.Query;
        if (selection.Forward)
        {
            var forwarded = "/v1/errors" + QueryString.Create(SiteSelection.PassThrough(query));
            return await cache.ServeAsync(context, ct => fanOut.ForwardAsync(selection.Sites[0], forwarded, options.Value.ForwardTimeout.Value, ct));
        }
        // Every site gets the same explicit range, so their hourly counts line up and "new" means the same thing.
        if (!TryTime(query, "to", out var to, out var invalid) || !TryTime(query, "from", out var from, out invalid))
            return BadParameter(invalid!);
        var toValue = to ?? clock.GetUtcNow();
        var fromValue = from ?? toValue - DefaultRange;
        var statuses = query["status"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var limitText = query["limit"].ToString();
        var limit = DefaultLimit;
        if (limitText.Length > 0 && !(int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= SiteLimit))
            return BadParameter($"limit '{limitText}' must be a whole number from 1 to {SiteLimit}");
        var parameters = SiteSelection.PassThrough(query, "from", "to", "limit");
        parameters.Add(new("from", fromValue.ToString("O", CultureInfo.InvariantCulture)));
        parameters.Add(new("to", toValue.ToString("O", CultureInfo.InvariantCulture)));
        parameters.Add(new("limit", SiteLimit.ToString(CultureInfo.InvariantCulture)));
        // Status is a property of the merged group: the sites are asked for all of them and the filter applied after.
        parameters.RemoveAll(p => p.Key == "status");
        var pathAndQuery = "/v1/errors" + QueryString.Create(parameters);
        return await cache.ServeAsync(context, async ct =>
        {
            var started = Stopwatch.GetTimestamp();
            var outcomes = await fanOut.GetAsync(selection.Sites.Select(site => (site, pathAndQuery)), ct);
            if (outcomes.FirstOrDefault(o => o.IsBadRequest) is { } bad)
                return FanOut.BadRequest(bad);
            var (perSite, errors) = FanOut.Collect(outcomes, "error groups", body => JsonSerializer.Deserialize<SiteErrorGroupList>(body, WireJson.Options)!.Items);
            var merged = ErrorGroupMerger.Merge(fromValue, perSite.Values.SelectMany(items => items))
                .Where(g => statuses.Length == 0 || statuses.Contains(g.Status, StringComparer.Ordinal))
                .Take(limit)
                .ToList();
            return CentralResponse.Ok(new MergedErrorGroups(fromValue, toValue, merged, merged.Count, errors.Count > 0, errors,
                DurationField.Since(started)), complete: errors.Count == 0);
        });
    }

    private static bool TryTime(IQueryCollection query, string name, out DateTimeOffset? value, out string? error)
    {
        value = null;
        error = null;
        var text = query[name].ToString();
        if (text.Length == 0)
            return true;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }
        error = $"{name} '{text}' is not an ISO 8601 timestamp";
        return false;
    }

    private static IResult BadParameter(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
}
