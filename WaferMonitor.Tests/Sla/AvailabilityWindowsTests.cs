using WaferMonitor.LocalApi.ServiceLevels;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.Tests.Sla;

/// <summary>Availability in seconds of check intervals, against windows computed by hand.</summary>
public sealed class AvailabilityWindowsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 30, TimeSpan.Zero);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);

    private static CheckedInterval Check(int hour, int minute, double second, bool available) =>
        new(new DateTimeOffset(2026, 12, 2, hour, minute, 0, TimeSpan.Zero).AddSeconds(second), Minute, available);

    [Fact]
    public void Intervals_with_a_failed_check_an_unhealthy_one_or_none_at_all_are_unavailable_from_the_first_interval_on_record()
    {
        CheckedInterval[] checks =
        [
            Check(10, 0, 0.5, true),     // the first on record; nothing from 10:01 to 11:50
            Check(11, 50, 0.2, true),
            Check(11, 51, 0.2, true),
            Check(11, 52, 0.2, false),   // the end-to-end check failed
            Check(11, 53, 0.2, false),   // passed, but /health was not healthy
            // 11:54: no result at all
            Check(11, 55, 0.2, true),
            Check(11, 56, 0.2, true),
            Check(11, 56, 0.3, true),    // a second node's check: the interval counts once
            Check(11, 57, 0.2, false),
            Check(11, 58, 40, true),     // started late (the one before was slow): still its interval's check
            Check(11, 59, 0.2, true),
            Check(12, 0, 0.2, false),    // the current interval, which has not ended: not counted yet
        ];

        var windows = AvailabilityWindows.Count(checks, Now, Month);

        // Counted until 12:00:00, the current interval's start. Available: 10:00–10:01, 11:50–11:52, 11:55–11:57, 11:58–12:00.
        // 5m from 11:55:30: 270 s, of which 11:57–11:58 is down.
        Assert.Equal(new WindowCount(210, 270), windows["5m"]);
        // 30m from 11:30:30: 1770 s, available 120 + 120 + 120.
        Assert.Equal(new WindowCount(360, 1770), windows["30m"]);
        // 1h from 11:00:30: 3570 s.
        Assert.Equal(new WindowCount(360, 3570), windows["1h"]);
        // 6h and 30d start at the first interval on record, 10:00: 7200 s, available 60 more.
        Assert.Equal(new WindowCount(420, 7200), windows["6h"]);
        Assert.Equal(new WindowCount(420, 7200), windows["30d"]);

        // 99.5 % over the 30 days: 6780 s down of a budget of 36 s.
        var status = SlaCalculator.Evaluate("availability", "", 0.995, Month, windows);
        Assert.Equal(420.0 / 7200, status.Measured!.Value, 9);
        Assert.Equal(1 - 6780 / (0.005 * 7200), status.ErrorBudgetLeft!.Value, 9);
        Assert.Equal(60.0 / 270 / 0.005, status.BurnRates["5m"]!.Value, 9);
    }

    [Fact]
    public void A_site_up_throughout_is_fully_available_whatever_the_windows_edges()
    {
        var checks = Enumerable.Range(0, 120).Select(i => new CheckedInterval(Now.AddMinutes(-119).AddSeconds(-29.9 + i * 60), Minute, true)).ToList();
        var windows = AvailabilityWindows.Count(checks, Now, Month);
        Assert.All(windows.Values, w => Assert.Equal(w.Total, w.Good));
        Assert.Equal(new WindowCount(270, 270), windows["5m"]);
        Assert.Equal(new WindowCount(7140, 7140), windows["6h"]);
    }

    [Fact]
    public void Nothing_is_measured_before_an_interval_has_ended()
    {
        Assert.All(AvailabilityWindows.Count([], Now, Month).Values, w => Assert.Equal(WindowCount.Empty, w));
        Assert.All(AvailabilityWindows.Count([Check(12, 0, 0.2, true)], Now, Month).Values, w => Assert.Equal(WindowCount.Empty, w));
    }

    [Fact]
    public void Intervals_are_multiples_of_the_interval_since_the_unix_epoch()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero), SyntheticChecks.IntervalStart(Now, Minute));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero),
            SyntheticChecks.IntervalStart(new DateTimeOffset(2026, 12, 2, 13, 4, 59, TimeSpan.FromHours(1)), TimeSpan.FromMinutes(5)));
        // 1 000 000 007 s after the epoch, with 7 s intervals: the last multiple of 7 is 1 000 000 001 (142 857 143 × 7).
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_000_000_001),
            SyntheticChecks.IntervalStart(DateTimeOffset.FromUnixTimeSeconds(1_000_000_007).AddMilliseconds(500), TimeSpan.FromSeconds(7)));
    }
}
