using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry as an Aspire template's ServiceDefaults sets it up: logging, metrics and tracing with the ASP.NET Core,
/// HttpClient and runtime instrumentation, our own <c>WaferMonitor.*</c> sources, the Prometheus exporter behind
/// <c>/metrics</c>, and OTLP for all three when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (as Aspire injects it).
/// </summary>
internal static class OpenTelemetryDefaults
{
    public const string OwnSources = "WaferMonitor.*";

    /// <summary>Probes and scrapes arrive every few seconds; as spans they would bury the requests worth reading.</summary>
    public static readonly string[] UntracedPaths = ["/health", "/alive", "/v1/healthz", "/metrics"];

    public static void AddOpenTelemetryDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.Clear().AddDetector(services =>
                new IdentityResourceDetector(services.GetRequiredService<IOptions<ServiceIdentity>>().Value)))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                // Counts every probe and scrape by route; health and /metrics opt out of the request series, and this
                // one cannot be opted out per endpoint.
                .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(OwnSources)
                .AddPrometheusExporter(prometheus =>
                {
                    // The seed's series carry exactly their own labels (http_requests_total{method,route,status}).
                    prometheus.ScopeInfoEnabled = false;
                    // Every scrape reads current values, so a count is visible as soon as it is made.
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
                }))
            .WithTracing(tracing => tracing
                .AddSource(OwnSources)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsUntraced(context.Request.Path))
                .AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();
    }

    private static bool IsUntraced(PathString path) =>
        UntracedPaths.Any(untraced => path.Equals(untraced, StringComparison.OrdinalIgnoreCase));

    /// <summary>service.name/version, deployment.environment and the site, from the same identity the logs carry.</summary>
    private sealed class IdentityResourceDetector(ServiceIdentity identity) : IResourceDetector
    {
        public Resource Detect()
        {
            var attributes = new List<KeyValuePair<string, object>>
            {
                new("service.name", identity.Name),
                new("service.version", identity.Version),
                new("deployment.environment", identity.Environment),
            };
            if (identity.Site is not null)
                attributes.Add(new("wafer.site", identity.Site));
            return new Resource(attributes);
        }
    }
}
