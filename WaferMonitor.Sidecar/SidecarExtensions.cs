using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Health;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Security;
using Microsoft.Extensions.Configuration.Memory;
using WaferMonitor.Sidecar.Forwarding;
using WaferMonitor.Sidecar.Heartbeat;
using WaferMonitor.Sidecar.Ingest;
using WaferMonitor.Sidecar.Spool;
using WaferMonitor.Sidecar.Synthetic;

namespace WaferMonitor.Sidecar;

internal static class SidecarExtensions
{
    public static WebApplicationBuilder AddSidecar(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // The v2 SDK on this node sends no credential: accepted while the Sidecar listens on loopback only (the default).
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Security:AnonymousIngest"] = nameof(AnonymousIngest.OnLoopback) },
        });
        services.AddValidatedOptions<SidecarOptions>(SidecarOptions.SectionName);
        services.AddValidatedOptions<SpoolOptions>(SpoolOptions.SectionName);
        services.AddValidatedOptions<ForwarderOptions>(ForwarderOptions.SectionName);
        services.AddValidatedOptions<IngestOptions>(IngestOptions.SectionName);
        services.AddServiceSite("Sidecar:SiteId");
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => SegmentSpool.Open(sp.GetRequiredService<IOptions<SpoolOptions>>(), sp.GetRequiredService<ILogger<SegmentSpool>>()));
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<SidecarMetrics>();
        services.AddSingleton<ForwarderState>();
        services.AddSingleton<SidecarIngest>();
        // The forwarder retries forever with its own backoff and decides per answer whether to retry, split or dead-letter;
        // a retry or breaker underneath would multiply a poison batch's attempts and stall the other lanes with it.
        services.AddHttpClientWithoutResilience(Forwarder.HttpClientName, Forwarder.AttemptTimeout);
        services.AddHttpClient(Forwarder.HttpClientName).WithBearerCredential(LocalApiKey);
        services.AddHostedService<Forwarder>();
        services.AddHttpClientWithoutResilience(HeartbeatReporter.HttpClientName, TimeSpan.FromSeconds(10));
        services.AddHttpClient(HeartbeatReporter.HttpClientName).WithBearerCredential(LocalApiKey);
        services.AddHostedService<HeartbeatReporter>();
        services.AddValidatedOptions<SyntheticOptions>(SyntheticOptions.SectionName);
        services.AddSingleton<SyntheticMetrics>();
        // The canary times its own attempts; retries underneath would hide the failures it is there to record.
        services.AddHttpClientWithoutResilience(CanaryService.HttpClientName, TimeSpan.FromMinutes(1));
        services.AddHttpClient(CanaryService.HttpClientName).WithBearerCredential(LocalApiKey);
        services.AddHttpClientWithoutResilience(CanaryService.SelfHttpClientName, TimeSpan.FromMinutes(1));
        services.AddHostedService<CanaryService>();
        services.AddHealthChecks().AddCheck<SpoolHealthCheck>("spool");
        services.AddSingleton<IHealthzFields, SpoolHealthzFields>();
        return builder;
    }

    private static string? LocalApiKey(IServiceProvider services) => services.GetRequiredService<IOptions<SidecarOptions>>().Value.LocalApiKey;

    public static WebApplication MapSidecar(this WebApplication app)
    {
        app.MapIngestEndpoints();
        app.MapSpoolEndpoints();
        return app;
    }
}
