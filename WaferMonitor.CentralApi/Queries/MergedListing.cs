using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.ServiceDefaults.Compatibility;

namespace WaferMonitor.CentralApi.Queries;

/// <summary>
/// A page merged over several sites: LocalApi's page shape plus which sites are missing from it and why; v2's
/// <c>duration_s</c> is the seconds the fan-out and merge took (a cached page keeps the figure it was made with).
/// </summary>
public sealed record MergedPage(
    IReadOnlyList<JsonElement> Items, int Count, string? NextCursor, bool Partial, IReadOnlyDictionary<string, string> SiteErrors,
    double DurationS);

/// <summary>
/// <c>/v1/jobs</c> and <c>/v1/subjobs</c> over several sites, newest first, paging every row exactly once.
/// </summary>
/// <remarks>
/// Each site pages by its own immutable store order, and those orders are not comparable across sites. So the merged
/// cursor is a vector of site cursors (<see cref="MergedCursor"/>): a page asks every site that is not exhausted for
/// <c>limit</c> rows after its own cursor, merges the sites' lists by repeatedly taking the head with the latest
/// <c>stored_at</c> (ties by site id) — each site's rows stay in that site's order, so what is taken from a site is
/// always a prefix of its list — keeps the first <c>limit</c>, and records per site the cursor of the last row taken from
/// it. Every site's keyset is therefore walked without gaps or repeats, and rows stored after paging began are not shown
/// (as on a single site). A site that fails keeps its position, so its rows appear on a later page instead of being lost.
/// </remarks>
internal sealed class MergedListing(FanOut fanOut)
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    public static (int Limit, Dictionary<string, string?> Positions, string? Error) ParsePaging(IQueryCollection query)
    {
        var limit = DefaultLimit;
        var text = query["limit"].ToString();
        if (text.Length > 0 && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit))
            return (0, [], $"limit '{text}' must be a whole number from 1 to {MaxLimit}");
        try
        {
            return (limit, MergedCursor.Decode(query["cursor"].ToString()), null);
        }
        catch (FormatException ex)
        {
            return (0, [], ex.Message);
        }
    }

    public async Task<CentralResponse> ListAsync(
        IReadOnlyList<Site> sites, string path, IQueryCollection query, int limit, Dictionary<string, string?> positions,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var filters = SiteSelection.PassThrough(query, "cursor", "limit");
        var pending = sites.Where(site => Position(positions, site) != MergedCursor.Done).ToList();
        var outcomes = await fanOut.GetAsync(pending.Select(site =>
        {
            var parameters = new List<KeyValuePair<string, string?>>(filters) { new("limit", limit.ToString(CultureInfo.InvariantCulture)) };
            if (Position(positions, site) is { } cursor)
                parameters.Add(new("cursor", cursor));
            return (site, path + QueryString.Create(parameters));
        }), cancellationToken);

        if (outcomes.FirstOrDefault(o => o.IsBadRequest) is { } bad)
            return FanOut.BadRequest(bad);

        var errors = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var lists = new List<SiteList>();
        foreach (var outcome in outcomes)
        {
            if (outcome.Failure is { } failure)
                errors[outcome.Site.Id] = failure;
            else if (SiteList.TryRead(outcome, out var list, out var error))
                lists.Add(list);
            else
                errors[outcome.Site.Id] = error;
        }

        var items = new List<JsonElement>(Math.Min(limit, 1024));
        while (items.Count < limit)
        {
            SiteList? newest = null;
            foreach (var list in lists.Where(l => l.HasNext))
            {
                if (newest is null || list.HeadStoredAt > newest.HeadStoredAt
                    || (list.HeadStoredAt == newest.HeadStoredAt && string.CompareOrdinal(list.Site.Id, newest.Site.Id) < 0))
                    newest = list;
            }
            if (newest is null)
                break;
            items.Add(newest.Take());
        }

        var next = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var site in sites)
            next[site.Id] = Position(positions, site);
        foreach (var list in lists)
            next[list.Site.Id] = list.NextPosition(Position(positions, list.Site));
        var more = next.Values.Any(p => p != MergedCursor.Done);
        var page = new MergedPage(
            items, items.Count, more ? MergedCursor.Encode(next) : null, errors.Count > 0, errors, DurationField.Since(started));
        return CentralResponse.Ok(page, complete: errors.Count == 0);
    }

    private static string? Position(Dictionary<string, string?> positions, Site site) =>
        positions.TryGetValue(site.Id, out var position) ? position : null;

    /// <summary>One site's page, consumed from the front.</summary>
    private sealed class SiteList(Site site, JsonElement[] items, DateTimeOffset[] storedAt, string[] cursors, bool exhausted)
    {
        private int taken;

        public Site Site { get; } = site;
        public bool HasNext => taken < items.Length;
        public DateTimeOffset HeadStoredAt => storedAt[taken];

        public JsonElement Take() => items[taken++];

        /// <summary>Done when the site has no more rows and all were taken; else the cursor after the last row taken.</summary>
        public string? NextPosition(string? previous) =>
            exhausted && taken == items.Length ? MergedCursor.Done
            : taken == 0 ? previous
            : cursors[taken - 1];

        public static bool TryRead(SiteOutcome outcome, out SiteList list, out string error)
        {
            list = null!;
            error = "";
            try
            {
                var page = JsonDocument.Parse(outcome.Response!.Body).RootElement;
                var items = page.GetProperty("items").EnumerateArray().Select(i => i.Clone()).ToArray();
                var storedAt = new DateTimeOffset[items.Length];
                var cursors = new string[items.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    if (!items[i].TryGetProperty("stored_at", out var stored) || !items[i].TryGetProperty("cursor", out var cursor))
                    {
                        error = "site items lack stored_at/cursor (LocalApi too old to merge)";
                        return false;
                    }
                    storedAt[i] = stored.GetDateTimeOffset();
                    cursors[i] = cursor.GetString()!;
                }
                var exhausted = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null;
                list = new SiteList(outcome.Site, items, storedAt, cursors, exhausted);
                return true;
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                error = $"unreadable page: {ex.Message}";
                return false;
            }
        }
    }
}
