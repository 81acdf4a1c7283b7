namespace WaferMonitor.ServiceDefaults.ServiceLevels;

/// <summary>Good events out of all events in one window (minutes of requests answered, synthetic checks passed…).</summary>
public sealed record WindowCount(long Good, long Total)
{
    public static readonly WindowCount Empty = new(0, 0);

    public long Bad => Total - Good;

    public WindowCount Plus(WindowCount other) => new(Good + other.Good, Total + other.Total);
}

/// <summary>One dated observation: <paramref name="Good"/> of <paramref name="Total"/> at <paramref name="At"/>.</summary>
public sealed record SlaSample(DateTimeOffset At, long Good, long Total);

/// <summary>A service level objective as <c>GET /v1/sla</c> shows it (docs/observability.md#service-levels).</summary>
public sealed record SlaStatus(
    string Name, string Description, double Objective, double? Measured, long Good, long Total, double? ErrorBudgetLeft,
    IReadOnlyDictionary<string, double?> BurnRates, bool FastBurn, bool SlowBurn, bool? Met, IReadOnlyDictionary<string, WindowCount> Windows);

/// <summary>
/// Service level arithmetic after the Google SRE workbook, chapter 5 ("Alerting on SLOs"): the error budget is
/// <c>1 − objective</c>; a window's burn rate is its bad fraction divided by the budget (1 spends exactly the budget over
/// the SLO window); budget left is <c>1 − bad / (budget × total)</c> over the SLO window. Multi-window alerts: burning fast
/// when both the 1 h and the 5 min burn rates exceed 14.4 (2 % of a 30-day budget in an hour), slowly when both the
/// 6 h and the 30 min ones exceed 6 (5 % in six hours). Pure functions: the services read the counts, this judges them.
/// </summary>
public static class SlaCalculator
{
    public const double FastBurnRate = 14.4;
    public const double SlowBurnRate = 6;

    public static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ThirtyMinutes = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan OneHour = TimeSpan.FromHours(1);
    public static readonly TimeSpan SixHours = TimeSpan.FromHours(6);

    /// <summary>The alerting windows, by the name <c>burn_rates</c> shows them under.</summary>
    public static readonly IReadOnlyList<(string Name, TimeSpan Length)> BurnWindows =
        [("5m", FiveMinutes), ("30m", ThirtyMinutes), ("1h", OneHour), ("6h", SixHours)];

    /// <summary>The name the SLO window is shown under: <c>30d</c>, <c>7d</c>, <c>12h</c>.</summary>
    public static string WindowName(TimeSpan window) =>
        window.TotalDays >= 1 && window.TotalDays == Math.Floor(window.TotalDays) ? $"{window.TotalDays:0}d"
        : window.TotalHours == Math.Floor(window.TotalHours) ? $"{window.TotalHours:0}h"
        : $"{window.TotalMinutes:0}m";

    /// <summary>Sums samples into the SLO window and each burn window ending at <paramref name="now"/> (start inclusive, end exclusive).</summary>
    public static Dictionary<string, WindowCount> Windows(IEnumerable<SlaSample> samples, DateTimeOffset now, TimeSpan window)
    {
        var windows = new List<(string Name, TimeSpan Length)>(BurnWindows) { (WindowName(window), window) };
        var counts = windows.ToDictionary(w => w.Name, _ => WindowCount.Empty, StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            foreach (var (name, length) in windows)
            {
                if (sample.At >= now - length && sample.At < now)
                    counts[name] = counts[name].Plus(new WindowCount(sample.Good, sample.Total));
            }
        }
        return counts;
    }

    /// <param name="windows">Counts for the SLO window (named by <see cref="WindowName"/>) and every burn window.</param>
    public static SlaStatus Evaluate(string name, string description, double objective, TimeSpan window, IReadOnlyDictionary<string, WindowCount> windows) =>
        Evaluate(name, description, objective, WindowName(window), windows);

    /// <param name="windowName">The SLO window's name in <paramref name="windows"/> (<c>30d</c>).</param>
    public static SlaStatus Evaluate(string name, string description, double objective, string windowName, IReadOnlyDictionary<string, WindowCount> windows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(objective, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(objective, 1);
        var budget = 1 - objective;
        var whole = windows.GetValueOrDefault(windowName) ?? WindowCount.Empty;
        double? measured = whole.Total == 0 ? null : (double)whole.Good / whole.Total;
        double? budgetLeft = whole.Total == 0 ? null : 1 - whole.Bad / (budget * whole.Total);
        var burn = BurnWindows.ToDictionary(w => w.Name, w => BurnRate(windows.GetValueOrDefault(w.Name), budget), StringComparer.Ordinal);
        bool Above(string a, string b, double rate) => burn[a] > rate && burn[b] > rate;
        return new SlaStatus(name, description, objective, measured, whole.Good, whole.Total, budgetLeft, burn,
            FastBurn: Above("1h", "5m", FastBurnRate), SlowBurn: Above("6h", "30m", SlowBurnRate),
            Met: measured is { } m ? m >= objective : null, windows);
    }

    /// <summary>
    /// Several scopes' statuses of one objective (the sites') judged as one: their window counts summed, the strictest
    /// objective. CentralApi's fab-wide service levels.
    /// </summary>
    public static SlaStatus Combine(IReadOnlyList<SlaStatus> statuses, string windowName)
    {
        var windows = new Dictionary<string, WindowCount>(StringComparer.Ordinal);
        foreach (var (name, count) in statuses.SelectMany(s => s.Windows))
            windows[name] = (windows.GetValueOrDefault(name) ?? WindowCount.Empty).Plus(count);
        var strictest = statuses.MaxBy(s => s.Objective)!;
        return Evaluate(strictest.Name, strictest.Description, strictest.Objective, windowName, windows);
    }

    /// <summary>A window's bad fraction over the budget (objectives are below 1, so there is one); null for an empty window.</summary>
    public static double? BurnRate(WindowCount? count, double budget) => count is not { Total: > 0 } c ? null : (double)c.Bad / c.Total / budget;
}
