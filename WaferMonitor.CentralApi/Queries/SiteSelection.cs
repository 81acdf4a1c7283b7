using WaferMonitor.CentralApi.Sites;

namespace WaferMonitor.CentralApi.Queries;

/// <summary>
/// What <c>site=</c> asks for: one site (forwarded unchanged), several (<c>site=fab1,fab2</c>) or all (absent or
/// <c>all</c>) fanned out; an unknown site id is a <c>404</c>.
/// </summary>
internal sealed record SiteSelection(IReadOnlyList<Site> Sites, bool Forward)
{
    public const string Parameter = "site";

    public static (SiteSelection? Selection, IResult? Error) Parse(HttpRequest request, SiteDirectory directory)
    {
        var text = request.Query[Parameter].ToString().Trim();
        if (text.Length == 0 || string.Equals(text, "all", StringComparison.OrdinalIgnoreCase))
            return (new SiteSelection(directory.All, Forward: false), null);
        var ids = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sites = new List<Site>();
        foreach (var id in ids.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var site = directory.Find(id);
            if (site is null)
                return (null, TypedResults.Problem($"no site '{id}'; see /v1/sites", statusCode: StatusCodes.Status404NotFound, title: "Unknown site"));
            sites.Add(site);
        }
        return (new SiteSelection(sites, Forward: sites.Count == 1), null);
    }

    /// <summary>The request's query without <c>site</c> and the given parameters, for passing on to sites.</summary>
    public static List<KeyValuePair<string, string?>> PassThrough(IQueryCollection query, params string[] without) =>
        [.. query
            .Where(q => q.Key != Parameter && !without.Contains(q.Key, StringComparer.Ordinal))
            .SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v)))];
}
