using Microsoft.Extensions.Configuration;

namespace WaferMonitor.ServiceDefaults.Discovery;

/// <summary>
/// Aspire's configuration-based service discovery: <c>http://localapi-fab1/v1/jobs</c> becomes the address stored at
/// <c>services:localapi-fab1:http:0</c>. Microsoft.Extensions.ServiceDiscovery is not obtainable, so this is ours; it
/// covers the configuration provider only (no DNS SRV), which is all an Aspire AppHost injects.
/// </summary>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    /// <summary>Returns the concrete address for a logical service URI, or the URI unchanged when nothing is configured.</summary>
    public Uri Resolve(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
            return uri;
        foreach (var endpointName in EndpointNamesFor(uri.Scheme))
        {
            var endpoints = configuration.GetSection($"services:{uri.Host}:{endpointName}");
            var address = endpoints["0"] ?? endpoints.Value;
            if (string.IsNullOrWhiteSpace(address))
                continue;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var target))
                throw new InvalidOperationException(
                    $"services:{uri.Host}:{endpointName}:0 is '{address}', which is not an absolute URL");
            return new UriBuilder(uri) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;
        }
        return uri;
    }

    public bool IsKnown(string serviceName) => configuration.GetSection($"services:{serviceName}").Exists();

    // "https+http://name" means "prefer https, fall back to http", as in Aspire.
    private static string[] EndpointNamesFor(string scheme) => scheme switch
    {
        "https+http" => ["https", "http"],
        "http+https" => ["http", "https"],
        _ => [scheme],
    };
}
