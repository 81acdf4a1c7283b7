namespace WaferMonitor.CentralApi.Errors;

/// <summary>A site's error group as LocalApi's <c>GET /v1/errors</c> answers it (docs/errors.md), and the merged group.</summary>
public sealed record SiteErrorGroup(
    string Fingerprint, string Title, string App, string? ErrorType, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    bool New, bool Regressed, string Status, SiteHourlyCounts Hourly, SiteAffected Lots, SiteAffected Wafers, Dictionary<string, long> Sites);

public sealed record SiteHourlyCounts(DateTimeOffset Start, long[] Counts);

public sealed record SiteAffected(long Total, string[] Examples);

public sealed record SiteErrorGroupList(DateTimeOffset From, DateTimeOffset To, List<SiteErrorGroup> Items);

public sealed record MergedErrorGroups(
    DateTimeOffset From, DateTimeOffset To, IReadOnlyList<SiteErrorGroup> Items, int Count, bool Partial,
    IReadOnlyDictionary<string, string> SiteErrors, double DurationS);

/// <summary>
/// Merges the sites' error groups: one group per fingerprint, counts, hourly counts, affected lots and wafers added up
/// (a lot belongs to one site), per-site counts kept. New means first seen in the range on every site; regressed means
/// not new, back after a quiet period on some site and seen throughout on none (ongoing somewhere means the fault never
/// went quiet company-wide).
/// </summary>
public static class ErrorGroupMerger
{
    private const int Examples = 5;

    public static List<SiteErrorGroup> Merge(DateTimeOffset from, IEnumerable<SiteErrorGroup> groups) =>
        [.. groups.GroupBy(g => g.Fingerprint, StringComparer.Ordinal).Select(same => MergeOne(from, [.. same]))
            .OrderByDescending(g => g.Count).ThenByDescending(g => g.LastSeen).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)];

    private static SiteErrorGroup MergeOne(DateTimeOffset from, List<SiteErrorGroup> parts)
    {
        var latest = parts.MaxBy(p => p.LastSeen)!;
        var firstSeen = parts.Min(p => p.FirstSeen);
        var isNew = firstSeen >= from;
        var regressed = !isNew && parts.Any(p => p.Regressed) && !parts.Any(p => p.Status == "ongoing");
        var start = parts.Min(p => p.Hourly.Start);
        var length = parts.Max(p => HourIndex(start, p.Hourly.Start) + p.Hourly.Counts.Length);
        var hourly = new long[length];
        foreach (var part in parts)
        {
            var offset = HourIndex(start, part.Hourly.Start);
            for (var i = 0; i < part.Hourly.Counts.Length; i++)
                hourly[offset + i] += part.Hourly.Counts[i];
        }
        var sites = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (site, count) in parts.SelectMany(p => p.Sites))
            sites[site] = sites.GetValueOrDefault(site) + count;
        return latest with
        {
            Count = parts.Sum(p => p.Count),
            FirstSeen = firstSeen,
            New = isNew,
            Regressed = regressed,
            Status = isNew ? "new" : regressed ? "regressed" : "ongoing",
            Hourly = new SiteHourlyCounts(start, hourly),
            Lots = Combine(parts.Select(p => p.Lots)),
            Wafers = Combine(parts.Select(p => p.Wafers)),
            Sites = sites,
        };
    }

    private static SiteAffected Combine(IEnumerable<SiteAffected> parts)
    {
        var list = parts.ToList();
        return new SiteAffected(list.Sum(a => a.Total),
            [.. list.SelectMany(a => a.Examples).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(Examples)]);
    }

    private static int HourIndex(DateTimeOffset start, DateTimeOffset at) => (int)Math.Round((at - start).TotalHours);
}
