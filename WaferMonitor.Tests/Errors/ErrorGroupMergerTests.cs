using WaferMonitor.CentralApi.Errors;

namespace WaferMonitor.Tests.Errors;

public sealed class ErrorGroupMergerTests
{
    private static readonly DateTimeOffset From = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static SiteErrorGroup Group(string site, string fingerprint, long count, DateTimeOffset firstSeen, string status, long[] hourly,
        string[] lots, DateTimeOffset? hourStart = null) =>
        new(fingerprint, "ChamberFault: pressure <n>", "etch", "ChamberFault", count, firstSeen, From.AddHours(hourly.Length - 1),
            status == "new", status == "regressed", status, new SiteHourlyCounts(hourStart ?? From, hourly),
            new SiteAffected(lots.Length, lots), new SiteAffected(0, []), new() { [site] = count });

    [Fact]
    public void Same_fingerprint_on_two_sites_becomes_one_group_with_per_site_counts_and_summed_hours()
    {
        var merged = ErrorGroupMerger.Merge(From,
        [
            Group("fab1", "aa", 3, From.AddHours(1), "new", [1, 2, 0], ["LOT-1", "LOT-2"]),
            Group("fab2", "aa", 4, From.AddDays(-3), "regressed", [0, 3, 1], ["LOT-7"]),
            Group("fab2", "bb", 1, From.AddDays(-1), "ongoing", [1], ["LOT-8"]),
        ]);
        Assert.Equal(["aa", "bb"], merged.Select(g => g.Fingerprint));
        var aa = merged[0];
        Assert.Equal(7, aa.Count);
        Assert.Equal([1L, 5L, 1L], aa.Hourly.Counts);
        Assert.Equal(new Dictionary<string, long> { ["fab1"] = 3, ["fab2"] = 4 }, aa.Sites);
        Assert.Equal(3, aa.Lots.Total);
        Assert.Equal(["LOT-1", "LOT-2", "LOT-7"], aa.Lots.Examples);
        Assert.Equal(From.AddDays(-3), aa.FirstSeen);
        Assert.False(aa.New);
        Assert.True(aa.Regressed);
        Assert.Equal("regressed", aa.Status);
    }

    [Fact]
    public void A_group_ongoing_on_one_site_is_not_regressed_and_new_only_when_new_everywhere()
    {
        var ongoing = Assert.Single(ErrorGroupMerger.Merge(From,
        [
            Group("fab1", "aa", 1, From.AddDays(-3), "regressed", [1], []),
            Group("fab2", "aa", 1, From.AddDays(-2), "ongoing", [1], []),
        ]));
        Assert.Equal("ongoing", ongoing.Status);
        var isNew = Assert.Single(ErrorGroupMerger.Merge(From,
        [
            Group("fab1", "aa", 1, From.AddMinutes(5), "new", [1], []),
            Group("fab2", "aa", 1, From.AddMinutes(50), "new", [1], []),
        ]));
        Assert.True(isNew.New);
        Assert.Equal(From.AddMinutes(5), isNew.FirstSeen);
    }

    [Fact]
    public void Hourly_counts_starting_at_different_hours_are_aligned()
    {
        var merged = Assert.Single(ErrorGroupMerger.Merge(From,
        [
            Group("fab1", "aa", 2, From, "new", [1, 1], []),
            Group("fab2", "aa", 2, From, "new", [2], [], hourStart: From.AddHours(1)),
        ]));
        Assert.Equal([1L, 3L], merged.Hourly.Counts);
    }
}
