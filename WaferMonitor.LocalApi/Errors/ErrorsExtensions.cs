using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Errors;

internal static class ErrorsExtensions
{
    public static IServiceCollection AddErrorGroups(this IServiceCollection services)
    {
        services.AddValidatedOptions<ErrorsOptions>(ErrorsOptions.SectionName);
        services.AddSingleton<ErrorQueries>();
        return services;
    }
}
