using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Sdk.Client;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="MonitorClient"/> for the container. Settings come from the container's
    /// <see cref="IConfiguration"/> (<c>WaferMonitor:*</c>, <c>SIDECAR_URL</c>) when there is one, then
    /// <paramref name="configure"/>. The container disposes the client, which drains its queue.
    /// </summary>
    public static IServiceCollection AddWaferMonitor(this IServiceCollection services, Action<MonitorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider => Create(provider, provider.GetService<IConfiguration>(), configure));
        return services;
    }

    /// <summary>As <see cref="AddWaferMonitor(IServiceCollection, Action{MonitorOptions}?)"/>, reading the given configuration.</summary>
    public static IServiceCollection AddWaferMonitor(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<MonitorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(provider => Create(provider, configuration, configure));
        return services;
    }

    private static MonitorClient Create(IServiceProvider provider, IConfiguration? configuration, Action<MonitorOptions>? configure)
    {
        var options = configuration is null ? new MonitorOptions() : MonitorOptions.FromConfiguration(configuration);
        configure?.Invoke(options);
        return new MonitorClient(
            options,
            handler: null,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILoggerFactory>()?.CreateLogger<MonitorClient>());
    }
}
