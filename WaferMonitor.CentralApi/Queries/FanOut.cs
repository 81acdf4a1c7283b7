using System.Text;
using System.Text.Json;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Sites;

namespace WaferMonitor.CentralApi.Queries;

/// <summary>One site's part of a fan-out: its answer, or why there is none.</summary>
internal sealed record SiteOutcome(Site Site, SiteResponse? Response, string? Error)
{
    public bool IsOk => Response?.StatusCode == StatusCodes.Status200OK;

    /// <summary>A 400 from a site means the shared parameters are wrong: the whole request is, not one site.</summary>
    public bool IsBadRequest => Response?.StatusCode == StatusCodes.Status400BadRequest;

    /// <summary>Why this site is missing from a merged answer (a site error), or null when it is in it.</summary>
    public string? Failure => Error ?? (IsOk ? null : $"HTTP {Response!.StatusCode}: {Title(Response)}");

    private static string Title(SiteResponse response)
    {
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                return detail.GetString()!;
        }
        catch (JsonException)
        {
        }
        return response.Body.Length == 0 ? "empty body" : Encoding.UTF8.GetString(response.Body, 0, Math.Min(200, response.Body.Length));
    }
}

/// <summary>Calls every selected site in parallel; a failing site becomes an outcome with an error, never an exception.</summary>
internal sealed class FanOut(SiteClient client)
{
    public Task<SiteOutcome[]> GetAsync(IEnumerable<(Site Site, string PathAndQuery)> calls, CancellationToken cancellationToken) =>
        Task.WhenAll(calls.Select(async call =>
        {
            try
            {
                return new SiteOutcome(call.Site, await client.GetAsync(call.Site, call.PathAndQuery, cancellationToken), null);
            }
            catch (SiteUnavailableException ex)
            {
                return new SiteOutcome(call.Site, null, ex.Message);
            }
        }));

    /// <summary><c>site=one</c>: the site's answer unchanged, or a 502/504 problem when it does not answer.</summary>
    public async Task<CentralResponse> ForwardAsync(Site site, string pathAndQuery, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetAsync(site, pathAndQuery, timeout, cancellationToken);
            return new CentralResponse(response.StatusCode, response.Body, response.ContentType, Complete: true);
        }
        catch (SiteUnavailableException ex)
        {
            return CentralResponse.Problem(
                ex.TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                "Site unavailable", $"site {site.Id} did not answer: {ex.Message}");
        }
    }

    /// <summary>
    /// Each answering site's body as <paramref name="read"/> makes it, by site id; a site that failed, or whose body
    /// <paramref name="read"/> could not parse, is a site error ("unreadable <paramref name="what"/>: …").
    /// </summary>
    public static (SortedDictionary<string, T> Answers, SortedDictionary<string, string> Errors) Collect<T>(
        IEnumerable<SiteOutcome> outcomes, string what, Func<byte[], T> read)
    {
        var answers = new SortedDictionary<string, T>(StringComparer.Ordinal);
        var errors = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            if (outcome.Failure is { } failure)
            {
                errors[outcome.Site.Id] = failure;
                continue;
            }
            try
            {
                answers[outcome.Site.Id] = read(outcome.Response!.Body);
            }
            catch (JsonException ex)
            {
                errors[outcome.Site.Id] = $"unreadable {what}: {ex.Message}";
            }
        }
        return (answers, errors);
    }

    /// <summary>The first site's 400 as the whole request's answer.</summary>
    public static CentralResponse BadRequest(SiteOutcome outcome) =>
        new(outcome.Response!.StatusCode, outcome.Response.Body, outcome.Response.ContentType, Complete: false);
}
