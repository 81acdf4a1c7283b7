using WaferMonitor.CentralApi.ServiceLevels;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.Tests.Sla;

/// <summary>CentralApi's in-memory per-minute request counts, against windows computed by hand.</summary>
public sealed class RequestMinutesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset Midnight = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    private static void Record(RequestMinutes minutes, DateTimeOffset at, int requests, int errors, int slow)
    {
        for (var i = 0; i < requests; i++)
            minutes.Record(at.AddMilliseconds(i), error: i < errors, isSlow: i >= requests - slow);
    }

    [Fact]
    public void Each_minute_counts_in_the_windows_its_start_falls_in_and_a_slot_is_reused_once_its_minute_left_the_window()
    {
        var minutes = new RequestMinutes(TimeSpan.FromHours(12));
        // 721 slots: the minute 721 minutes before now's takes now's slot until now's minute claims it back.
        Record(minutes, Now.AddMinutes(-721), requests: 50, errors: 50, slow: 50);
        Record(minutes, Midnight.AddHours(5).AddMinutes(59), requests: 7, errors: 0, slow: 0);      // 05:59: 12h
        Record(minutes, Midnight.AddHours(8), requests: 100, errors: 1, slow: 0);                   // 08:00: 6h, 12h
        Record(minutes, Midnight.AddHours(11).AddMinutes(10), requests: 10, errors: 0, slow: 10);   // 11:10: 1h …
        Record(minutes, Midnight.AddHours(11).AddMinutes(40), requests: 20, errors: 4, slow: 1);    // 11:40: 30m …
        Record(minutes, Midnight.AddHours(11).AddMinutes(57), requests: 5, errors: 0, slow: 0);     // 11:57: 5m …
        Record(minutes, Midnight.AddHours(11).AddMinutes(59).AddSeconds(10), requests: 10, errors: 1, slow: 2);
        Record(minutes, Now.AddSeconds(-20), requests: 3, errors: 1, slow: 0);                       // 12:00:10, the current minute

        var (answered, fast) = minutes.Windows(Now);

        // 5m from 11:55:30: 11:57, 11:59 and 12:00: 18 requests, 2 answered 5xx, 2 slow.
        Assert.Equal(new WindowCount(16, 18), answered["5m"]);
        Assert.Equal(new WindowCount(16, 18), fast["5m"]);
        // 30m adds 11:40; 1h 11:10; 6h 08:00; 12h 05:59 — not the minute whose slot now's took.
        Assert.Equal(new WindowCount(32, 38), answered["30m"]);
        Assert.Equal(new WindowCount(35, 38), fast["30m"]);
        Assert.Equal(new WindowCount(42, 48), answered["1h"]);
        Assert.Equal(new WindowCount(35, 48), fast["1h"]);
        Assert.Equal(new WindowCount(141, 148), answered["6h"]);
        Assert.Equal(new WindowCount(135, 148), fast["6h"]);
        Assert.Equal(new WindowCount(148, 155), answered["12h"]);
        Assert.Equal(new WindowCount(142, 155), fast["12h"]);

        var status = SlaCalculator.Evaluate("error_rate", "", 0.99, TimeSpan.FromHours(12), answered);
        Assert.Equal(148.0 / 155, status.Measured!.Value, 9);
        Assert.Equal(1 - 7 / (0.01 * 155), status.ErrorBudgetLeft!.Value, 9);
        Assert.Equal(2.0 / 18 / 0.01, status.BurnRates["5m"]!.Value, 9);
    }

    [Fact]
    public void A_fresh_record_measures_nothing() =>
        Assert.All(new RequestMinutes(TimeSpan.FromDays(30)).Windows(Now).Answered.Values, w => Assert.Equal(WindowCount.Empty, w));
}
