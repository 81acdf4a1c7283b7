using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.ServiceDefaults.Telemetry;

/// <summary>
/// The tracer and meter providers, built when the host starts and flushed when it stops (the job
/// OpenTelemetry.Extensions.Hosting would do; it is not obtainable). Metrics always feed <c>/metrics</c>; traces and
/// metrics also go over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
internal sealed class TelemetryProviders(
    ServiceIdentity identity,
    PrometheusScrapeEndpoint scrapeEndpoint,
    TelemetrySources sources,
    string? otlpEndpoint) : IHostedService, IDisposable
{
    private TracerProvider? tracerProvider;
    private MeterProvider? meterProvider;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var resource = ResourceFor(identity);
        var metrics = OpenTelemetry.Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.Clear().AddAttributes(resource.Attributes))
            .AddMeter([.. sources.Meters])
            .AddReader(scrapeEndpoint.Reader);
        if (otlpEndpoint is not null)
            metrics.AddOtlpExporter();
        meterProvider = metrics.Build();

        var traces = OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.Clear().AddAttributes(resource.Attributes))
            .AddSource([.. sources.ActivitySources]);
        if (otlpEndpoint is not null)
            traces.AddOtlpExporter();
        tracerProvider = traces.Build();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        tracerProvider?.ForceFlush(2000);
        meterProvider?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        tracerProvider?.Dispose();
        meterProvider?.Dispose();
    }

    internal static Resource ResourceFor(ServiceIdentity identity)
    {
        var attributes = new List<KeyValuePair<string, object>>
        {
            new("service.name", identity.Name),
            new("service.version", identity.Version),
            new("deployment.environment", identity.Environment),
        };
        if (identity.Site is not null)
            attributes.Add(new("wafer.site", identity.Site));
        return ResourceBuilder.CreateEmpty().AddAttributes(attributes).Build();
    }
}

/// <summary>Meter and ActivitySource names each service adds to; wildcards allowed (<c>WaferMonitor.*</c>).</summary>
public sealed class TelemetrySources
{
    public List<string> Meters { get; } = ["WaferMonitor.*", "Microsoft.AspNetCore.Hosting", "System.Net.Http", "System.Runtime"];
    public List<string> ActivitySources { get; } = ["WaferMonitor.*", "Microsoft.AspNetCore", "System.Net.Http", "Npgsql"];
}
