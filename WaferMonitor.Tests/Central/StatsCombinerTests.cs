using System.Text.Json;
using WaferMonitor.CentralApi.Stats;

namespace WaferMonitor.Tests.Central;

/// <summary>The combined view of sites' <c>/v1/stats</c> in LocalApi's documented shape.</summary>
public sealed class StatsCombinerTests
{
    private static JsonElement SiteStats(int running, int succeeded, int failed, string? oldest, string? oldestJob, params (string Start, int Succeeded)[] buckets) =>
        JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["from"] = "2026-11-22T00:00:00+00:00",
            ["to"] = "2026-11-22T01:00:00+00:00",
            ["bucket_seconds"] = 300,
            ["counts"] = new Dictionary<string, int>
            {
                ["running"] = running, ["succeeded"] = succeeded, ["failed"] = failed, ["canceled"] = 0,
                ["total"] = running + succeeded + failed,
            },
            ["buckets"] = buckets.Select(b => new Dictionary<string, object>
            {
                ["start"] = b.Start, ["running"] = 0, ["succeeded"] = b.Succeeded, ["failed"] = 1, ["canceled"] = 0,
            }).ToList(),
            ["per_app"] = new[]
            {
                new Dictionary<string, object> { ["app_name"] = "etch", ["jobs"] = 3, ["duration_s"] = new { p50 = 1.5, p95 = 9.0, p99 = 9.9 } },
            },
            ["running"] = new Dictionary<string, object?> { ["count"] = running, ["oldest_started_at"] = oldest, ["oldest_job_id"] = oldestJob },
        });

    [Fact]
    public void Combined_stats_sum_counts_and_buckets_and_keep_the_oldest_running_job()
    {
        var combined = StatsCombiner.Combine(
        [
            ("fab1", SiteStats(2, 10, 1, "2026-11-22T00:10:00+00:00", "job-a", ("2026-11-22T00:00:00+00:00", 4), ("2026-11-22T00:05:00+00:00", 6))),
            ("fab2", SiteStats(1, 5, 3, "2026-11-22T00:03:00+00:00", "job-b", ("2026-11-22T00:05:00Z", 5), ("2026-11-22T00:10:00+00:00", 7))),
        ]);

        var counts = combined["counts"]!;
        Assert.Equal(3, (long)counts["running"]!);
        Assert.Equal(15, (long)counts["succeeded"]!);
        Assert.Equal(4, (long)counts["failed"]!);
        Assert.Equal(22, (long)counts["total"]!);

        var buckets = combined["buckets"]!.AsArray();
        Assert.Equal([4L, 11L, 7L], buckets.Select(b => (long)b!["succeeded"]!));
        Assert.Equal([1L, 2L, 1L], buckets.Select(b => (long)b!["failed"]!));

        var running = combined["running"]!;
        Assert.Equal(3, (long)running["count"]!);
        Assert.Equal("job-b", (string)running["oldest_job_id"]!);
        Assert.Equal("fab2", (string)running["oldest_site_id"]!);
        Assert.Equal(DateTimeOffset.Parse("2026-11-22T00:03:00Z"), running["oldest_started_at"]!.GetValue<DateTimeOffset>());
        // Percentiles are per site only: an average of p95s is no p95.
        Assert.Null(combined["per_app"]);
    }

    [Fact]
    public void A_site_running_no_job_has_no_oldest_and_does_not_break_the_combination()
    {
        // Issue 19: a site with nothing running answers oldest_started_at null, which made central /v1/stats a 500.
        var combined = StatsCombiner.Combine(
        [
            ("idle", SiteStats(0, 4, 0, null, null)),
            ("busy", SiteStats(1, 2, 0, "2026-11-22T00:10:00+00:00", "job-b")),
        ]);
        Assert.Equal(1, combined["running"]!["count"]!.GetValue<long>());
        Assert.Equal("busy", combined["running"]!["oldest_site_id"]!.GetValue<string>());

        var allIdle = StatsCombiner.Combine([("idle", SiteStats(0, 4, 0, null, null))]);
        Assert.Null(allIdle["running"]!["oldest_started_at"]);
    }
}
