using System.Diagnostics;

namespace WaferMonitor.ServiceDefaults.Compatibility;

/// <summary>v2's <c>duration_s</c> on ingest and query answers: the seconds the server spent on the request's work.</summary>
public static class DurationField
{
    /// <summary>
    /// Seconds since <paramref name="startTimestamp"/> (from <see cref="Stopwatch.GetTimestamp"/>), to the microsecond:
    /// v2 rounded to 0.1 ms, which reads a fast answer as 0.
    /// </summary>
    public static double Since(long startTimestamp) => Math.Round(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, 6);
}
