using Microsoft.Extensions.DependencyInjection.Extensions;
using WaferMonitor.CentralApi.Alerts;
using WaferMonitor.CentralApi.Caching;
using WaferMonitor.CentralApi.Errors;
using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.ServiceLevels;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.CentralApi.Stats;
using WaferMonitor.Pages;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.CentralApi;

internal static class CentralApiExtensions
{
    public static WebApplicationBuilder AddCentralApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<CentralOptions>(CentralOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SiteDirectory>();
        // Builds the site directory during start-up validation, so a malformed Sites/SITES setting is reported as one line.
        builder.Services.AddOptions<SitesConfigured>().Configure<SiteDirectory>((_, _) => { }).ValidateOnStart();
        builder.Services.AddHttpClient(SiteClient.HttpClientName);
        builder.Services.AddSingleton<SiteClient>();
        builder.Services.AddSingleton<FanOut>();
        builder.Services.AddSingleton<MergedListing>();
        builder.Services.AddSingleton<ResponseCache>();
        builder.Services.AddSingleton<SiteHealthMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SiteHealthMonitor>());
        builder.Services.AddHealthChecks().AddCheck<SitesHealthCheck>("sites");
        builder.Services.AddSingleton<IHealthzFields, SitesHealthzField>();
        builder.Services.AddOperatorPages();
        builder.Services.AddValidatedOptions<CentralSlaOptions>(CentralSlaOptions.SectionName);
        builder.Services.AddSingleton<OwnRequestRecorder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OwnRequestRecorder>());
        return builder;
    }

    private sealed class SitesConfigured;

    public static WebApplication MapCentralApi(this WebApplication app)
    {
        app.MapSitesEndpoints();
        app.MapJobsEndpoints();
        app.MapStatsEndpoints();
        app.MapCentralPages();
        app.MapAlertsEndpoints();
        app.MapErrorsEndpoints();
        app.MapSlaEndpoints();
        return app;
    }
}
