using System.Text.Json;
using Microsoft.Extensions.Options;
using WaferMonitor.LocalApi.Sidecars;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Alerts;

internal static class AlertsExtensions
{
    /// <summary>
    /// Layers <c>Alerts:RulesFile</c> over the configuration when it is readable JSON; when it is not, it is left out and
    /// <see cref="AlertsOptions"/> validation stops the service with one line saying why.
    /// </summary>
    public static IHostApplicationBuilder AddAlertRulesFile(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration[$"{AlertsOptions.SectionName}:{nameof(AlertsOptions.RulesFile)}"] is { Length: > 0 } file && RulesFileProblem(file) is null)
            builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        return builder;
    }

    /// <summary>Why the rules file cannot be used, or null.</summary>
    public static string? RulesFileProblem(string file)
    {
        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
            return $"{path} does not exist";
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.ValueKind == JsonValueKind.Object ? null : $"{path} is not a JSON object";
        }
        catch (JsonException ex)
        {
            return $"{path} is not valid JSON: {ex.Message}";
        }
        catch (IOException ex)
        {
            return $"{path} cannot be read: {ex.Message}";
        }
        catch (UnauthorizedAccessException ex)
        {
            return $"{path} cannot be read: {ex.Message}";
        }
    }

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
