using Microsoft.Extensions.Options;
using WaferMonitor.LocalApi.Alerts;
using WaferMonitor.LocalApi.Errors;
using WaferMonitor.LocalApi.ServiceLevels;
using WaferMonitor.LocalApi.Synthetic;
using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.LocalApi.Integrations;
using WaferMonitor.LocalApi.Queries;
using WaferMonitor.LocalApi.Stats;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.LocalApi.Streaming;
using WaferMonitor.Pages;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Health;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi;

internal static class LocalApiExtensions
{
    public static WebApplicationBuilder AddLocalApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddAlertRulesFile();
        services.AddValidatedOptions<LocalApiOptions>(LocalApiOptions.SectionName);
        services.AddValidatedOptions<IngestOptions>(IngestOptions.SectionName);
        services.AddValidatedOptions<RetentionOptions>(RetentionOptions.SectionName);
        services.AddServiceSite("LocalApi:SiteId");
        services.AddSingleton(TimeProvider.System);

        builder.AddSiteDatabases();

        services.AddSingleton<IHealthzFields, DatabasePoolHealthzField>();
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<PartitionMaintenance>();
        services.AddHostedService<PartitionMaintenanceService>();
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<DbMetrics>();
        services.AddHostedService<RunningJobsMonitor>();
        services.AddSingleton<EventStore>();
        services.AddSingleton<IngestContext>();
        services.AddSingleton<JobQueries>();
        services.AddValidatedOptions<StatsOptions>(StatsOptions.SectionName);
        services.AddSingleton<StatsQueries>();
        services.AddSingleton<StatsMetrics>();
        services.AddHostedService<StatsRollup>();
        services.AddOpenApi();
        services.AddValidatedOptions<StreamOptions>(StreamOptions.SectionName);
        services.AddSingleton<StreamMetrics>();
        services.AddSingleton<EventFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<EventFeed>());
        services.AddIntegrations();
        services.AddOperatorPages();
        services.AddAlerts();
        services.AddErrorGroups();
        services.AddValidatedOptions<SlaOptions>(SlaOptions.SectionName);
        services.AddSingleton<SlaQueries>();
        services.AddHostedService<RequestOutcomeRecorder>();
        return builder;
    }

    public static WebApplication MapLocalApi(this WebApplication app)
    {
        app.MapIngestEndpoints();
        app.MapJobsEndpoints();
        app.MapStatsEndpoints();
        app.MapOpenApi().RequireRead();
        app.MapStreamEndpoints();
        app.MapSitePages();
        app.MapAlerts();
        app.MapErrorsEndpoints();
        app.MapSyntheticEndpoints();
        app.MapSlaEndpoints();
        return app;
    }
}
