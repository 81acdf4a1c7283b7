using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Discovery;
using WaferMonitor.ServiceDefaults.Errors;
using WaferMonitor.ServiceDefaults.Health;
using WaferMonitor.ServiceDefaults.Logging;
using WaferMonitor.ServiceDefaults.Metrics;
using WaferMonitor.ServiceDefaults.Resilience;
using WaferMonitor.ServiceDefaults.Security;
using WaferMonitor.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting concerns every WaferMonitor service shares, in the shape of Aspire's ServiceDefaults project:
/// telemetry, <c>/metrics</c>, health, resilience, service discovery, logging.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";

    /// <param name="defaultPort">The standalone port (DESIGN.md §4.6), used when no URL is configured.</param>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, int defaultPort)
        where TBuilder : IHostApplicationBuilder
    {
        var entry = Assembly.GetEntryAssembly();
        var defaultName = (entry?.GetName().Name ?? "wafermonitor").Replace("WaferMonitor.", "", StringComparison.Ordinal).ToLowerInvariant();
        builder.Services.AddOptions<ServiceIdentity>().Configure(identity =>
        {
            identity.Name = builder.Configuration["OTEL_SERVICE_NAME"] ?? defaultName;
            identity.Version = entry is null ? identity.Version : ServiceIdentity.VersionOf(entry);
            identity.Environment = builder.Environment.EnvironmentName.ToLowerInvariant();
        });

        // Lowest-priority defaults: any appsettings file or environment variable overrides them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                // Each retried attempt is a warning with a stack trace; failures that last reach the caller and its logs.
                ["Logging:LogLevel:Polly"] = "Error",
            },
        });
        UseDefaultPort(builder, defaultPort);
        builder.AddJsonLogging();
        builder.AddOpenTelemetryDefaults();
        builder.Services.AddHostedService<HttpServerMetrics>();
        builder.Services.AddHostedService<ProcessMetrics>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BackgroundLoops>();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy("running"), [LiveTag])
            .AddCheck<BackgroundLoops>(BackgroundLoops.HealthCheckName);
        builder.Services.AddSingleton<IHealthCheckPublisher, HealthMetrics>();
        builder.Services.Configure<HealthCheckPublisherOptions>(options =>
        {
            options.Delay = TimeSpan.FromSeconds(1);
            options.Period = TimeSpan.FromSeconds(15);
        });
        builder.AddHttpClientDefaults();
        builder.AddServiceSecurity();
        builder.Services.Configure<JsonOptions>(options => WireJson.Apply(options.SerializerOptions));
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // The router answers a body of another media type before any endpoint runs; say what to send instead.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType)
                context.ProblemDetails.Detail ??= $"Content-Type '{context.HttpContext.Request.ContentType}' is not accepted here; send application/json";
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        return builder;
    }

    /// <summary>Declares which site this process serves, for logs, health and telemetry.</summary>
    /// <remarks>
    /// Read from the raw configuration key, not from the validated options: the identity is used by every log line,
    /// including the one that reports that very setting as invalid.
    /// </remarks>
    public static void AddServiceSite(this IServiceCollection services, string siteKey) =>
        services.AddOptions<ServiceIdentity>().Configure<IConfiguration>((identity, configuration) =>
            identity.Site = string.IsNullOrWhiteSpace(configuration[siteKey]) ? null : configuration[siteKey]);

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Every error answer is an RFC 7807 problem: exceptions through ProblemExceptionHandler, bodiless ones (404, 405).
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseServiceSecurity();
        // Probes and scrapes arrive every few seconds and would drown the request series: they are not measured. They stay
        // open so orchestrators and Prometheus need no credential; they say whether the service is up, not what it holds.
        app.MapHealthChecks("/health").DisableHttpMetrics().AllowAnonymous();
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) }).DisableHttpMetrics().AllowAnonymous();
        app.MapHealthChecks("/v1/healthz", new HealthCheckOptions { ResponseWriter = HealthzResponseWriter.WriteAsync }).DisableHttpMetrics().AllowAnonymous();
        app.MapPrometheusScrapingEndpoint().ExcludeFromDescription().DisableHttpMetrics().AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Runs the service; a configuration problem found at start-up ends it with one line naming the key and exit code 2
    /// instead of a stack trace.
    /// </summary>
    public static async Task<int> RunServiceAsync(this WebApplication app)
    {
        var name = app.Services.GetRequiredService<IOptions<ServiceIdentity>>().Value.Name;
        try
        {
            // Before the host starts, so an invalid setting is reported once as one line rather than as a host failure.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (ConfigurationError(ex) is { } invalid)
        {
            await Console.Error.WriteLineAsync($"{name}: configuration error: {string.Join("; ", invalid.Failures)}");
            return 2;
        }
    }

    /// <summary>An invalid setting, also when it surfaced inside another failure (a hosted service, a logger).</summary>
    private static OptionsValidationException? ConfigurationError(Exception exception) => exception switch
    {
        OptionsValidationException invalid => invalid,
        AggregateException aggregate => aggregate.Flatten().InnerExceptions.Select(ConfigurationError).FirstOrDefault(e => e is not null),
        { InnerException: { } inner } => ConfigurationError(inner),
        _ => null,
    };

    private static void UseDefaultPort(IHostApplicationBuilder builder, int defaultPort)
    {
        var configured = builder.Configuration[WebHostDefaults.ServerUrlsKey]
            ?? builder.Configuration["ASPNETCORE_URLS"]
            ?? builder.Configuration["HTTP_PORTS"]
            ?? builder.Configuration["ASPNETCORE_HTTP_PORTS"];
        var hasKestrelEndpoints = builder.Configuration.GetSection("Kestrel:Endpoints").Exists();
        if (configured is null && !hasKestrelEndpoints)
            builder.Configuration[WebHostDefaults.ServerUrlsKey] = $"http://localhost:{defaultPort}";
    }

    private static void AddJsonLogging(this IHostApplicationBuilder builder)
    {
        // Inserted first so it wins over the built-in formatter of the same name (the first registration of a name is used).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<ConsoleFormatter, JsonLineConsoleFormatter>());
        builder.Services.PostConfigure<ConsoleLoggerOptions>(options => options.FormatterName ??= JsonLineConsoleFormatter.FormatterName);
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        // Npgsql logs every statement at Information: thousands of lines a second under ingest. Kept when configured.
        if (builder.Configuration["Logging:LogLevel:Npgsql"] is null && builder.Configuration["Logging:LogLevel:Npgsql.Command"] is null)
            builder.Logging.AddFilter("Npgsql.Command", LogLevel.Warning);
    }

    /// <summary>
    /// A named client without the standard resilience handler: for a caller with its own durable retry, whose semantics
    /// (which answers retry, split or dead-letter) a retry, circuit breaker or attempt timeout underneath would change.
    /// Service discovery stays on it.
    /// </summary>
    public static IServiceCollection AddHttpClientWithoutResilience(this IServiceCollection services, string name, TimeSpan timeout)
    {
        // Marked experimental, but it is the package's one way to undo ConfigureHttpClientDefaults for a single client.
#pragma warning disable EXTEXP0001
        services.AddHttpClient(name, client => client.Timeout = timeout).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return services;
    }

    private static void AddHttpClientDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<HttpResilienceOptions>(HttpResilienceOptions.SectionName);
        builder.Services.AddServiceDiscovery();
        ServiceEndpointSettings.AddValidation(builder.Services);
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilience();
            http.AddServiceDiscovery();
        });
    }
}
