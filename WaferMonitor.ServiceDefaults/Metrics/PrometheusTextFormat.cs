using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// Serialises OpenTelemetry metrics as Prometheus text exposition format 0.0.4. Every Prometheus exporter package is
/// missing from the registry, so this small writer is ours: counters (<c>_total</c>), gauges, up-down counters as
/// gauges, explicit-bucket histograms as cumulative <c>_bucket{le}</c>/<c>_sum</c>/<c>_count</c>, with the format's escaping.
/// </summary>
public static class PrometheusTextFormat
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void Write(StringBuilder output, Metric metric)
    {
        var name = SanitizeName(metric.Name);
        switch (metric.MetricType)
        {
            case MetricType.LongSum or MetricType.DoubleSum:
                if (!name.EndsWith("_total", StringComparison.Ordinal))
                    name += "_total";
                WriteHeader(output, name, metric.Description, "counter");
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var value = metric.MetricType == MetricType.LongSum ? point.GetSumLong() : point.GetSumDouble();
                    WriteSample(output, name, point.Tags, null, value);
                }
                break;
            case MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic:
                WriteHeader(output, name, metric.Description, "gauge");
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var value = metric.MetricType == MetricType.LongSumNonMonotonic ? point.GetSumLong() : point.GetSumDouble();
                    WriteSample(output, name, point.Tags, null, value);
                }
                break;
            case MetricType.LongGauge or MetricType.DoubleGauge:
                WriteHeader(output, name, metric.Description, "gauge");
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var value = metric.MetricType == MetricType.LongGauge
                        ? point.GetGaugeLastValueLong()
                        : point.GetGaugeLastValueDouble();
                    WriteSample(output, name, point.Tags, null, value);
                }
                break;
            case MetricType.Histogram:
                WriteHeader(output, name, metric.Description, "histogram");
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    long cumulative = 0;
                    foreach (var bucket in point.GetHistogramBuckets())
                    {
                        cumulative += bucket.BucketCount;
                        WriteSample(output, name + "_bucket", point.Tags, FormatDouble(bucket.ExplicitBound), cumulative);
                    }
                    WriteSample(output, name + "_sum", point.Tags, null, point.GetHistogramSum());
                    WriteSample(output, name + "_count", point.Tags, null, point.GetHistogramCount());
                }
                break;
        }
    }

    private static void WriteHeader(StringBuilder output, string name, string? description, string type)
    {
        if (!string.IsNullOrEmpty(description))
            output.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(description)).Append('\n');
        output.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void WriteSample(StringBuilder output, string name, ReadOnlyTagCollection tags, string? le, double value)
    {
        output.Append(name);
        var first = true;
        foreach (var tag in tags)
        {
            output.Append(first ? '{' : ',');
            first = false;
            output.Append(SanitizeName(tag.Key)).Append("=\"")
                .Append(EscapeLabelValue(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
        }
        if (le is not null)
        {
            output.Append(first ? '{' : ',');
            first = false;
            output.Append("le=\"").Append(le).Append('"');
        }
        if (!first)
            output.Append('}');
        output.Append(' ').Append(FormatDouble(value)).Append('\n');
    }

    public static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Maps an OpenTelemetry name (<c>http.server.request.duration</c>) to <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    public static string SanitizeName(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
            builder.Insert(0, '_');
        return builder.ToString();
    }

    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);

    public static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
