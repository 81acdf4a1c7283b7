using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Trace;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ProbeTracingTests
{
    [Fact]
    public async Task Probes_and_scrapes_produce_no_spans_and_other_requests_do()
    {
        var spans = new List<Activity>();
        await using var app = DefaultsHost.Build(configure: builder =>
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        app.MapGet("/v1/work", () => "done");
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        foreach (var path in new[] { "/health", "/alive", "/v1/healthz", "/metrics", "/v1/work" })
            using (await client.GetAsync(path))
            {
            }
        await app.StopAsync();

        // ActivitySources are process-wide: other tests' hosts running in parallel are filtered out by port.
        var port = new Uri(app.Urls.Single()).Port;
        var served = spans
            .Where(s => s.Source.Name == "Microsoft.AspNetCore" && Equals(s.GetTagItem("server.port"), port))
            .Select(s => s.GetTagItem("url.path")).ToList();
        Assert.Equal(["/v1/work"], served);
    }
}
