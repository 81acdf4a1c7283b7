using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WaferMonitor.ServiceDefaults.Discovery;

/// <summary>
/// Checks every <c>services:&lt;name&gt;:&lt;endpoint&gt;:&lt;n&gt;</c> value at start-up. Microsoft.Extensions.ServiceDiscovery
/// reads them only at a peer's first request, so a mistyped address would otherwise surface much later, inside a
/// retry loop; this reports it as one line naming the key before the service starts.
/// </summary>
internal sealed class ServiceEndpointSettings
{
    public List<string> Invalid { get; } = [];

    public static void AddValidation(IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<ServiceEndpointSettings>, Validator>();
        services.AddOptions<ServiceEndpointSettings>()
            .Configure<IConfiguration>((settings, configuration) => settings.Invalid.AddRange(InvalidAddresses(configuration)))
            .ValidateOnStart();
    }

    public static IEnumerable<string> InvalidAddresses(IConfiguration configuration)
    {
        foreach (var service in configuration.GetSection("services").GetChildren())
        foreach (var endpoint in service.GetChildren())
        foreach (var address in endpoint.GetChildren().Append(endpoint).Where(a => a.Value is not null))
        {
            if (!Uri.TryCreate(address.Value, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
                yield return $"{address.Path}: '{address.Value}' is not an absolute URL";
        }
    }

    private sealed class Validator : IValidateOptions<ServiceEndpointSettings>
    {
        public ValidateOptionsResult Validate(string? name, ServiceEndpointSettings options) =>
            options.Invalid.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Invalid);
    }
}
