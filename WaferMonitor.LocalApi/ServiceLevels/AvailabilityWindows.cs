using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>One synthetic check as availability counts it: the check interval it stands for, and whether the site was available in it.</summary>
/// <param name="Available">The check passed end to end and LocalApi's <c>/health</c> answered healthy.</param>
internal readonly record struct CheckedInterval(DateTimeOffset StartedAt, TimeSpan Interval, bool Available)
{
    public DateTimeOffset Start => SyntheticChecks.IntervalStart(StartedAt, Interval);

    public DateTimeOffset End => Start + Interval;
}

/// <summary>
/// The availability objective's window counts, in seconds: the time from the first check interval on record (or the
/// window's start, if later) to the start of the current interval, whose check may still be running; good is the part of
/// it covered by intervals with an available check. An interval without any result — the Sidecar down, its results lost —
/// is as unavailable as one whose check failed, so an outage shows as the seconds it lasted.
/// </summary>
internal static class AvailabilityWindows
{
    public static Dictionary<string, WindowCount> Count(IReadOnlyCollection<CheckedInterval> checks, DateTimeOffset now, TimeSpan window)
    {
        var windows = new List<(string Name, TimeSpan Length)>(SlaCalculator.BurnWindows) { (SlaCalculator.WindowName(window), window) };
        var counts = windows.ToDictionary(w => w.Name, _ => WindowCount.Empty, StringComparer.Ordinal);
        if (checks.Count == 0)
            return counts;
        var until = SyntheticChecks.IntervalStart(now, checks.MaxBy(c => c.StartedAt).Interval);
        var first = checks.Min(c => c.Start);
        var available = Merge(checks.Where(c => c.Available).Select(c => (c.Start, c.End)));
        foreach (var (name, length) in windows)
        {
            var from = Later(now - length, first);
            if (from >= until)
                continue;
            var covered = available.Sum(r => Math.Max(0, (Earlier(r.End, until) - Later(r.Start, from)).Ticks));
            counts[name] = new WindowCount(covered / TimeSpan.TicksPerSecond, (until - from).Ticks / TimeSpan.TicksPerSecond);
        }
        return counts;
    }

    /// <summary>The ranges joined where they overlap or touch, in order: time covered twice (two nodes' checks) counts once.</summary>
    private static List<(DateTimeOffset Start, DateTimeOffset End)> Merge(IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> ranges)
    {
        var merged = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var range in ranges.OrderBy(r => r.Start))
        {
            if (merged.Count > 0 && range.Start <= merged[^1].End)
                merged[^1] = (merged[^1].Start, Later(merged[^1].End, range.End));
            else
                merged.Add(range);
        }
        return merged;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Earlier(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
