using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.Tests.Sla;

/// <summary>The SLA arithmetic against windows computed by hand (Google SRE workbook, chapter 5).</summary>
public sealed class SlaCalculatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);

    private static Dictionary<string, WindowCount> Counts(WindowCount fiveMinutes, WindowCount thirtyMinutes, WindowCount hour, WindowCount sixHours,
        WindowCount month) => new()
        {
            ["5m"] = fiveMinutes, ["30m"] = thirtyMinutes, ["1h"] = hour, ["6h"] = sixHours, ["30d"] = month,
        };

    [Fact]
    public void Samples_are_summed_into_each_window_ending_now_start_inclusive_end_exclusive()
    {
        SlaSample[] samples =
        [
            new(Now.AddMinutes(-1), 9, 10),     // 5m 30m 1h 6h 30d
            new(Now.AddMinutes(-5), 1, 2),      // exactly 5 min ago: still in 5m
            new(Now.AddMinutes(-20), 5, 5),     // 30m 1h 6h 30d
            new(Now.AddMinutes(-45), 0, 3),     // 1h 6h 30d
            new(Now.AddHours(-5), 100, 100),    // 6h 30d
            new(Now.AddDays(-29), 50, 60),      // 30d
            new(Now.AddDays(-31), 0, 1000),     // outside
            new(Now, 0, 1000),                  // now itself: not yet
        ];
        var windows = SlaCalculator.Windows(samples, Now, Month);
        Assert.Equal(new WindowCount(10, 12), windows["5m"]);
        Assert.Equal(new WindowCount(15, 17), windows["30m"]);
        Assert.Equal(new WindowCount(15, 20), windows["1h"]);
        Assert.Equal(new WindowCount(115, 120), windows["6h"]);
        Assert.Equal(new WindowCount(165, 180), windows["30d"]);
    }

    [Fact]
    public void Measured_budget_left_and_burn_rates_match_the_hand_computed_values()
    {
        // Objective 99.5 %: a budget of 0.5 %. Over 30 days 20 bad of 10,000: 99.8 % measured, 20 / 50 of the budget spent.
        var status = SlaCalculator.Evaluate("availability", "", 0.995, Month, Counts(
            fiveMinutes: new(8, 10),       // 20 % bad / 0.5 % = 40
            thirtyMinutes: new(48, 50),    // 4 % / 0.5 % = 8
            hour: new(92, 100),            // 8 % / 0.5 % = 16
            sixHours: new(990, 1000),      // 1 % / 0.5 % = 2
            month: new(9980, 10000)));
        Assert.Equal(0.998, status.Measured!.Value, 9);
        Assert.Equal(0.6, status.ErrorBudgetLeft!.Value, 9);
        Assert.Equal(40, status.BurnRates["5m"]!.Value, 9);
        Assert.Equal(8, status.BurnRates["30m"]!.Value, 9);
        Assert.Equal(16, status.BurnRates["1h"]!.Value, 9);
        Assert.Equal(2, status.BurnRates["6h"]!.Value, 9);
        Assert.True(status.FastBurn);   // 1h 16 and 5m 40, both above 14.4
        Assert.False(status.SlowBurn);  // 6h 2 is not above 6
        Assert.True(status.Met);
        Assert.Equal(9980, status.Good);
        Assert.Equal(10000, status.Total);
    }

    [Fact]
    public void Both_windows_must_burn_fast_and_an_overspent_budget_goes_negative()
    {
        // A spike that has already stopped: the 1 h window still burns at 16, the 5 min one no more.
        var recovered = SlaCalculator.Evaluate("error_rate", "", 0.99, Month, Counts(
            new(10, 10), new(40, 50), new(84, 100), new(930, 1000), new(9700, 10000)));
        Assert.Equal(0, recovered.BurnRates["5m"]!.Value, 9);
        Assert.Equal(16, recovered.BurnRates["1h"]!.Value, 9);
        Assert.False(recovered.FastBurn);
        Assert.Equal(7, recovered.BurnRates["6h"]!.Value, 9);   // 7 % / 1 %
        Assert.Equal(20, recovered.BurnRates["30m"]!.Value, 9); // 20 % / 1 %
        Assert.True(recovered.SlowBurn);
        Assert.Equal(-2, recovered.ErrorBudgetLeft!.Value, 9);  // 300 bad against a budget of 100
        Assert.False(recovered.Met);
    }

    [Fact]
    public void Empty_windows_measure_nothing()
    {
        var status = SlaCalculator.Evaluate("latency_query", "", 0.95, Month, new Dictionary<string, WindowCount>());
        Assert.Null(status.Measured);
        Assert.Null(status.ErrorBudgetLeft);
        Assert.Null(status.Met);
        Assert.All(status.BurnRates.Values, Assert.Null);
        Assert.False(status.FastBurn);
    }

    [Fact]
    public void Sites_combine_by_summing_their_window_counts_under_the_strictest_objective()
    {
        var fab1 = SlaCalculator.Evaluate("availability", "", 0.995, Month, Counts(new(10, 10), new(60, 60), new(120, 120), new(720, 720), new(43190, 43200)));
        var fab2 = SlaCalculator.Evaluate("availability", "", 0.99, Month, Counts(new(0, 5), new(25, 30), new(55, 60), new(355, 360), new(21500, 21600)));
        var fab = SlaCalculator.Combine([fab1, fab2], "30d");
        Assert.Equal(0.995, fab.Objective);
        Assert.Equal(new WindowCount(64690, 64800), fab.Windows["30d"]);
        Assert.Equal(64690.0 / 64800, fab.Measured!.Value, 9);
        Assert.Equal(1 - 110 / (0.005 * 64800), fab.ErrorBudgetLeft!.Value, 9);
        Assert.Equal(5.0 / 15 / 0.005, fab.BurnRates["5m"]!.Value, 9);
    }

    [Theory]
    [InlineData(30 * 24 * 60, "30d")]
    [InlineData(12 * 60, "12h")]
    [InlineData(90, "90m")]
    public void Window_names(int minutes, string name) => Assert.Equal(name, SlaCalculator.WindowName(TimeSpan.FromMinutes(minutes)));
}
