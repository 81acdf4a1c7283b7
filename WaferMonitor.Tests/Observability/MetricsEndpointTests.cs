using System.Text.RegularExpressions;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Observability;

[Collection(FabCollection.Name)]
public sealed class MetricsEndpointTests(FabFixture fab)
{
    [Theory]
    [InlineData("sidecar-fab1", "/v1/spool", "/v1/spool/", "200")]
    [InlineData("localapi-fab1", "/v1/jobs?limit=1", "/v1/jobs", "200")]
    [InlineData("central", "/v1/jobs?site=nowhere", "/v1/jobs", "404")]
    [InlineData("archiver-fab1", "/no-such-page", "unmatched", "404")]
    public async Task Every_service_counts_requests_under_the_seed_names_but_not_its_probes_and_scrapes(
        string resource, string path, string route, string status)
    {
        using var client = fab.Client(resource);
        using (await client.GetAsync(path))
        {
        }
        foreach (var probe in new[] { "/health", "/alive", "/v1/healthz", "/metrics" })
        {
            using (await client.GetAsync(probe))
            {
            }
        }

        var text = await client.GetStringAsync("/metrics");

        Assert.Matches(
            $"http_requests_total\\{{method=\"GET\",route=\"{Regex.Escape(route)}\",status=\"{status}\"\\}} [1-9]", text);
        Assert.Contains("# TYPE http_request_duration_seconds histogram", text);
        Assert.Matches(
            $"http_request_duration_seconds_bucket\\{{method=\"GET\",route=\"{Regex.Escape(route)}\",status=\"{status}\",le=\"0.001\"\\}}", text);
        foreach (var probe in new[] { "/health", "/alive", "/v1/healthz", "/metrics" })
            Assert.DoesNotContain($"route=\"{probe}\"", text);
    }

    [Theory]
    [InlineData("sidecar-fab1")]
    [InlineData("localapi-fab1")]
    [InlineData("archiver-fab1")]
    [InlineData("central")]
    public async Task Every_service_exposes_process_and_runtime_metrics_under_prometheus_names(string resource)
    {
        using var client = fab.Client(resource);
        var text = await client.GetStringAsync("/metrics");

        Assert.Contains("# TYPE process_cpu_seconds_total counter", text);
        Assert.Matches("\nprocess_resident_memory_bytes(\\{\\})? [1-9][0-9]{6,}\n", text);
        var start = double.Parse(Regex.Match(text, "\nprocess_start_time_seconds(?:\\{\\})? ([0-9.e+E]+)\n").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(start, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Contains("# TYPE dotnet_gc_collections_total counter", text);
    }
}
