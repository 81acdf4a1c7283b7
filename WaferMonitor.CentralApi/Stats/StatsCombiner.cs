using System.Text.Json;
using System.Text.Json.Nodes;

namespace WaferMonitor.CentralApi.Stats;

/// <summary>Central <c>/v1/stats</c>: every site's own stats, a combined view, and which sites are missing.</summary>
public sealed record CentralStats(
    IReadOnlyDictionary<string, JsonElement> Sites, JsonObject Combined, bool Partial, IReadOnlyDictionary<string, string> SiteErrors);

/// <summary>
/// Combines sites' stats where that is arithmetic: status counts and per-bucket counts are summed, the running count is
/// summed and the oldest running job is the oldest of all. Percentiles (duration, CPU, memory) are not combined — an
/// average of sites' p95s is no p95 of anything — so they stay in each site's own stats.
/// </summary>
internal static class StatsCombiner
{
    public static JsonObject Combine(IEnumerable<(string SiteId, JsonElement Stats)> sites)
    {
        var counts = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var buckets = new SortedDictionary<DateTimeOffset, (string Start, SortedDictionary<string, double> Counts)>();
        double running = 0;
        (DateTimeOffset At, JsonNode? JobId, string SiteId)? oldest = null;

        foreach (var (siteId, stats) in sites)
        {
            if (stats.TryGetProperty("counts", out var siteCounts) && siteCounts.ValueKind == JsonValueKind.Object)
                AddNumbers(counts, siteCounts);
            if (stats.TryGetProperty("buckets", out var siteBuckets) && siteBuckets.ValueKind == JsonValueKind.Array)
            {
                foreach (var bucket in siteBuckets.EnumerateArray())
                {
                    if (!bucket.TryGetProperty("start", out var start) || start.ValueKind != JsonValueKind.String || !start.TryGetDateTimeOffset(out var startAt))
                        continue;
                    if (!buckets.TryGetValue(startAt, out var sum))
                        buckets[startAt] = sum = (start.GetString()!, new SortedDictionary<string, double>(StringComparer.Ordinal));
                    AddNumbers(sum.Counts, bucket);
                }
            }
            if (stats.TryGetProperty("running", out var siteRunning) && siteRunning.ValueKind == JsonValueKind.Object)
            {
                if (siteRunning.TryGetProperty("count", out var count) && count.ValueKind == JsonValueKind.Number)
                    running += count.GetDouble();
                // Null when the site runs no job: TryGetDateTimeOffset throws on anything but a string.
                if (siteRunning.TryGetProperty("oldest_started_at", out var started) && started.ValueKind == JsonValueKind.String
                    && started.TryGetDateTimeOffset(out var startedAt)
                    && (oldest is null || startedAt < oldest.Value.At))
                {
                    var jobId = siteRunning.TryGetProperty("oldest_job_id", out var id) ? JsonNode.Parse(id.GetRawText()) : null;
                    oldest = (startedAt, jobId, siteId);
                }
            }
        }

        return new JsonObject
        {
            ["counts"] = ToObject(counts),
            ["buckets"] = new JsonArray([.. buckets.Values.Select(b =>
            {
                var bucket = new JsonObject { ["start"] = b.Start };
                foreach (var (name, value) in b.Counts)
                    bucket[name] = Number(value);
                return (JsonNode)bucket;
            })]),
            ["running"] = new JsonObject
            {
                ["count"] = Number(running),
                ["oldest_started_at"] = oldest?.At,
                ["oldest_job_id"] = oldest?.JobId,
                ["oldest_site_id"] = oldest?.SiteId,
            },
        };
    }

    private static void AddNumbers(SortedDictionary<string, double> sums, JsonElement source)
    {
        foreach (var property in source.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
                sums[property.Name] = sums.GetValueOrDefault(property.Name) + property.Value.GetDouble();
        }
    }

    private static JsonObject ToObject(SortedDictionary<string, double> sums)
    {
        var result = new JsonObject();
        foreach (var (name, value) in sums)
            result[name] = Number(value);
        return result;
    }

    // Counts are whole numbers; keep them looking like the sites' integers.
    private static JsonNode Number(double value) =>
        Math.Abs(value) < 1e15 && value == Math.Floor(value) ? JsonValue.Create((long)value) : JsonValue.Create(value);
}
