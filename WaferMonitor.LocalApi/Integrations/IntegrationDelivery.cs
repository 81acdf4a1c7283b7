using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Integrations.Sinks;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>Runs one <see cref="IntegrationLoop"/> per enabled integration, side by side, apart from ingest.</summary>
internal sealed class IntegrationDelivery(
    IOptions<IntegrationsOptions> options, NpgsqlDataSource dataSource, IntegrationCursors cursors, IntegrationMetrics metrics,
    BackgroundLoops loops, TimeProvider clock, IHttpClientFactory httpClients, ILoggerFactory loggers) : BackgroundService
{
    public const string HttpClientName = "integrations";

    private List<IntegrationLoop> running = [];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        running = settings.All()
            .Where(i => i.Options.Enabled)
            .Select(i => new IntegrationLoop(i.Path.ToLowerInvariant(), i.Options, Sink(i.Path, i.Options), settings,
                dataSource, cursors, metrics, loops, clock, loggers.CreateLogger<IntegrationLoop>()))
            .ToList();
        foreach (var loop in running)
        {
            try
            {
                await loop.LoadCursorAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The loop reads it once the database answers (and reports its failures as a background loop).
                loops.Failed(loop.LoopName, ex);
            }
        }
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(running.Select(loop => loop.RunAsync(stoppingToken)));

    private IIntegrationSink Sink(string path, IntegrationOptions integration) => integration switch
    {
        WebhookIntegrationOptions webhook => new WebhookSink(webhook, httpClients.CreateClient(HttpClientName)),
        FileExportOptions files => new FileExportSink(path[(path.IndexOf(':', StringComparison.Ordinal) + 1)..], files, clock),
        ZabbixIntegrationOptions zabbix => new ZabbixSink(zabbix, loggers.CreateLogger<ZabbixSink>()),
        ElasticsearchIntegrationOptions elasticsearch => new ElasticsearchBulkSink(elasticsearch, httpClients.CreateClient(HttpClientName),
            loggers.CreateLogger<ElasticsearchBulkSink>()),
        LokiIntegrationOptions loki => new LokiPushSink(loki, httpClients.CreateClient(HttpClientName)),
        _ => throw new InvalidOperationException($"no sink for {integration.GetType().Name}"),
    };
}

internal static class IntegrationsExtensions
{
    public static IServiceCollection AddIntegrations(this IServiceCollection services)
    {
        services.AddValidatedOptions<IntegrationsOptions>(IntegrationsOptions.SectionName);
        services.AddSingleton<IntegrationCursors>();
        services.AddSingleton<IntegrationMetrics>();
        // The loop retries with its own backoff and never gives up; the standard handler's retries and breaker underneath
        // would only stretch each attempt.
        services.AddHttpClientWithoutResilience(IntegrationDelivery.HttpClientName, new IntegrationsOptions().RequestTimeout.Value);
        // Read when the first client is made, after start-up validation has checked the key.
        services.AddHttpClient(IntegrationDelivery.HttpClientName).ConfigureHttpClient((provider, client) =>
            client.Timeout = provider.GetRequiredService<IOptions<IntegrationsOptions>>().Value.RequestTimeout.Value);
        services.AddHostedService<IntegrationDelivery>();
        return services;
    }
}
