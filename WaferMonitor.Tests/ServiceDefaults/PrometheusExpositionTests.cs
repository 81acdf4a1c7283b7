using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.Tests.ServiceDefaults;

/// <summary>
/// What the OpenTelemetry Prometheus exporter makes of instruments named the way our services name them: the seed's
/// series names must come out unchanged (no doubled <c>_total</c> or unit suffix).
/// </summary>
public sealed class PrometheusExpositionTests
{
    [Fact]
    public async Task Our_instrument_names_come_out_as_the_documented_series()
    {
        await using var app = DefaultsHost.Build();
        await app.StartAsync();
        var meter = app.Services.GetRequiredService<IMeterFactory>().Create("WaferMonitor.Test");
        var counter = meter.CreateCounter<long>("events_processed_total", description: "Events processed.");
        counter.Add(3, new KeyValuePair<string, object?>("kind", "started"));
        counter.Add(2, new KeyValuePair<string, object?>("kind", "quote\"back\\slash"));
        meter.CreateCounter<long>("archive_bytes_total", unit: "By").Add(5);
        meter.CreateObservableGauge("events_in_spool", () => 42L);
        meter.CreateObservableGauge("spool_bytes", () => 7L, unit: "By");
        meter.CreateObservableGauge("archive_lag_seconds", () => 1.5, unit: "s");
        var histogram = meter.CreateHistogram<double>("job_duration_seconds", unit: "s", description: null, tags: null, advice: DurationBuckets.Seconds);
        histogram.Record(0.003);
        histogram.Record(7);
        var upDown = meter.CreateUpDownCounter<int>("jobs_running");
        upDown.Add(5);
        upDown.Add(-2);

        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var text = await client.GetStringAsync("/metrics");

        Assert.Contains("# TYPE events_processed_total counter\n", text);
        Assert.Contains("\nevents_processed_total{kind=\"started\"} 3\n", text);
        Assert.Contains("\nevents_processed_total{kind=\"quote\\\"back\\\\slash\"} 2\n", text);
        Assert.Matches("\narchive_bytes_total(\\{\\})? 5", text);
        Assert.Matches("\nevents_in_spool(\\{\\})? 42", text);
        Assert.Matches("\nspool_bytes(\\{\\})? 7", text);
        Assert.Matches("\narchive_lag_seconds(\\{\\})? 1.5", text);
        Assert.Matches("\njobs_running(\\{\\})? 3", text);
        Assert.Contains("# TYPE job_duration_seconds histogram\n", text);
        Assert.Matches("\njob_duration_seconds_bucket\\{le=\"0.005\"\\} 1", text);
        Assert.Matches("\njob_duration_seconds_bucket\\{le=\"10\"\\} 2", text);
        Assert.Matches("\njob_duration_seconds_bucket\\{le=\"\\+Inf\"\\} 2", text);
        Assert.Matches("\njob_duration_seconds_count(\\{\\})? 2", text);
    }
}
