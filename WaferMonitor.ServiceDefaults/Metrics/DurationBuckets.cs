using System.Diagnostics.Metrics;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// Bucket advice for duration histograms in seconds. OpenTelemetry's default boundaries (0, 5, 10, 25 … 10000) suit
/// milliseconds and would put every sub-second duration in one bucket.
/// </summary>
public static class DurationBuckets
{
    public static InstrumentAdvice<double> Seconds { get; } = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    };
}
