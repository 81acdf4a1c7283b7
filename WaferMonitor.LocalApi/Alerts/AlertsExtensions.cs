using Microsoft.Extensions.Options;
using WaferMonitor.LocalApi.Sidecars;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Alerts;

internal static class AlertsExtensions
{
    public static IServiceCollection AddAlerts(this IServiceCollection services)
    {
        services.AddValidatedOptions<AlertsOptions>(AlertsOptions.SectionName);
        services.AddSingleton(sp => AlertRuleSet.Build(sp.GetRequiredService<IOptions<AlertsOptions>>().Value).Rules);
        services.AddSingleton<AlertBook>();
        services.AddSingleton<AlertsMetrics>();
        services.AddSingleton<AlertLinks>();
        services.AddHostedService<AlertEvaluationService>();
        // The notifier keeps its own backoff across rounds; a retry policy underneath would only delay the next round.
        services.AddHttpClientWithoutResilience(AlertNotifier.HttpClientName, AlertNotifier.AttemptTimeout);
        services.AddHostedService<AlertNotifier>();
        return services;
    }

    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder routes)
    {
        routes.MapAlertsEndpoints();
        routes.MapSidecarsEndpoints();
        return routes;
    }
}
