using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class PrometheusFormatTests
{
    [Fact]
    public async Task Counters_gauges_and_histograms_are_exposed_in_text_format()
    {
        var meterName = "WaferMonitor.Test." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var endpoint = new PrometheusScrapeEndpoint();
        using var provider = OpenTelemetry.Sdk.CreateMeterProviderBuilder().AddMeter(meterName).AddReader(endpoint.Reader).Build();

        var counter = meter.CreateCounter<long>("events.processed", description: "Events\nprocessed \\ total");
        counter.Add(3, new KeyValuePair<string, object?>("kind", "started"));
        counter.Add(2, new KeyValuePair<string, object?>("kind", "quote\"back\\slash\nnewline"));
        meter.CreateObservableGauge("events_in_spool", () => 42L);
        var histogram = meter.CreateHistogram<double>("job_duration_seconds", unit: "s", description: null, tags: null, advice: DurationBuckets.Seconds);
        histogram.Record(0.003);
        histogram.Record(7);
        var upDown = meter.CreateUpDownCounter<int>("jobs_running");
        upDown.Add(5);
        upDown.Add(-2);

        var text = await endpoint.ScrapeAsync(CancellationToken.None);

        Assert.Contains("# HELP events_processed_total Events\\nprocessed \\\\ total\n", text);
        Assert.Contains("# TYPE events_processed_total counter\n", text);
        Assert.Contains("events_processed_total{kind=\"started\"} 3\n", text);
        Assert.Contains("events_processed_total{kind=\"quote\\\"back\\\\slash\\nnewline\"} 2\n", text);
        Assert.Contains("# TYPE events_in_spool gauge\nevents_in_spool 42\n", text);
        Assert.Contains("# TYPE jobs_running gauge\njobs_running 3\n", text);
        Assert.Contains("# TYPE job_duration_seconds histogram\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"0.005\"} 1\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"5\"} 1\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"10\"} 2\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"+Inf\"} 2\n", text);
        Assert.Contains("job_duration_seconds_sum 7.003\n", text);
        Assert.Contains("job_duration_seconds_count 2\n", text);
    }

    [Theory]
    [InlineData("http.server.request.duration", "http_server_request_duration")]
    [InlineData("9lives", "_9lives")]
    [InlineData("ok_name:sub", "ok_name:sub")]
    public void Names_are_sanitised(string name, string expected) => Assert.Equal(expected, PrometheusTextFormat.SanitizeName(name));

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    public void Special_values_use_the_format_spelling(double value, string expected) =>
        Assert.Equal(expected, PrometheusTextFormat.FormatDouble(value));
}
