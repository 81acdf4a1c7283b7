using Microsoft.Extensions.Options;

namespace WaferMonitor.CentralApi.Sites;

/// <param name="Token">The read token this CentralApi sends to the site (<c>SiteTokens:&lt;id&gt;</c>), if any.</param>
public sealed record Site(string Id, Uri BaseAddress, string? Token = null);

/// <summary>
/// The sites this CentralApi reads, from <c>Sites:&lt;id&gt;=url</c> (what the AppHost sets, service-discovery names
/// allowed), from the v2 form <c>SITES=fab1=http://site1:18000,fab2=…</c>, and otherwise from service discovery: each
/// <c>services:localapi-&lt;id&gt;</c> entry an Aspire AppHost injects is site <c>&lt;id&gt;</c>. Each site's read token is
/// <c>SiteTokens:&lt;id&gt;</c>.
/// </summary>
public sealed class SiteDirectory
{
    public SiteDirectory(IConfiguration configuration)
    {
        var sites = new Dictionary<string, Site>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in configuration.GetSection("Sites").GetChildren())
            sites[entry.Key] = Parse(entry.Key, entry.Value, $"Sites:{entry.Key}");
        var legacy = configuration["SITES"];
        if (!string.IsNullOrWhiteSpace(legacy))
        {
            foreach (var pair in legacy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var separator = pair.IndexOf('=', StringComparison.Ordinal);
                if (separator <= 0)
                    throw new OptionsValidationException("SITES", typeof(SiteDirectory), [$"SITES: '{pair}' is not site=url"]);
                var id = pair[..separator];
                sites[id] = Parse(id, pair[(separator + 1)..], "SITES");
            }
        }
        if (sites.Count == 0)
        {
            foreach (var service in configuration.GetSection("services").GetChildren())
            {
                if (service.Key.StartsWith(DiscoveredPrefix, StringComparison.OrdinalIgnoreCase) && service.Key.Length > DiscoveredPrefix.Length)
                    sites[service.Key[DiscoveredPrefix.Length..]] = new Site(service.Key[DiscoveredPrefix.Length..], new Uri($"http://{service.Key}"));
            }
        }
        if (sites.Count == 0)
            throw new OptionsValidationException("Sites", typeof(SiteDirectory), ["Sites: no site configured; set Sites:<id>=<url> or SITES=<id>=<url>,…"]);
        var tokens = configuration.GetSection("SiteTokens").GetChildren().ToDictionary(t => t.Key, t => t.Value, StringComparer.OrdinalIgnoreCase);
        All = [.. sites.Values.Select(s => s with { Token = tokens.GetValueOrDefault(s.Id) }).OrderBy(s => s.Id, StringComparer.Ordinal)];
    }

    private const string DiscoveredPrefix = "localapi-";

    public IReadOnlyList<Site> All { get; }

    public Site? Find(string id) => All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase));

    private static Site Parse(string id, string? url, string key) =>
        Uri.TryCreate(url, UriKind.Absolute, out var address)
            ? new Site(id, address)
            : throw new OptionsValidationException(key, typeof(SiteDirectory), [$"{key}: '{url}' is not an absolute URL"]);
}
