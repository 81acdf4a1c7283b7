using Microsoft.Extensions.Options;

namespace WaferMonitor.CentralApi.Sites;

/// <summary>Bound from <c>Central</c>.</summary>
public sealed class CentralOptions
{
    public const string SectionName = "Central";

    /// <summary>Per-site timeout of a fan-out request.</summary>
    public WaferMonitor.ServiceDefaults.Configuration.Duration SiteTimeout { get; set; } =
        WaferMonitor.ServiceDefaults.Configuration.Duration.FromSeconds(2);
}

public sealed record Site(string Id, Uri BaseAddress);

/// <summary>
/// The sites this CentralApi reads, from <c>Sites:&lt;id&gt;=url</c> (what the AppHost sets, service-discovery names
/// allowed) and from the v2 form <c>SITES=fab1=http://site1:18000,fab2=…</c>.
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
        All = [.. sites.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
    }

    public IReadOnlyList<Site> All { get; }

    public Site? Find(string id) => All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase));

    private static Site Parse(string id, string? url, string key) =>
        Uri.TryCreate(url, UriKind.Absolute, out var address)
            ? new Site(id, address)
            : throw new OptionsValidationException(key, typeof(SiteDirectory), [$"{key}: '{url}' is not an absolute URL"]);
}
