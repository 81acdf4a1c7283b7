namespace WaferMonitor.ServiceDefaults.Discovery;

/// <summary>Rewrites each outgoing request's logical service address to the configured endpoint.</summary>
internal sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is not null)
            request.RequestUri = resolver.Resolve(request.RequestUri);
        return base.SendAsync(request, cancellationToken);
    }
}
