using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using WaferMonitor.Archiver;
using WaferMonitor.CentralApi;
using WaferMonitor.LocalApi;
using WaferMonitor.Sidecar;

namespace WaferMonitor.Tests.Security;

/// <summary>One route of a service as its route table has it, with the authorization it carries.</summary>
public sealed record Route(string Service, string Method, string Pattern, bool Anonymous, IReadOnlyList<string> Policies)
{
    public override string ToString() => $"{Service} {Method} {Pattern}";
}

/// <summary>
/// Every route each service maps, read from its <see cref="EndpointDataSource"/>s after its own composition root ran
/// (the app is built, never started: no database or port is needed).
/// </summary>
public static class RouteTable
{
    public static readonly string[] ServiceNames = ["localapi", "central", "archiver", "sidecar"];

    /// <summary>Open by design: health and metrics for probes and Prometheus; the pages' static files, which hold no data.</summary>
    public static readonly string[] OpenRoutes =
        ["/health", "/alive", "/v1/healthz", "/metrics", "/", "/jobs/{jobId}", "/sites/{site}", "/sites/{site}/jobs/{jobId}", "/assets/{**path}"];

    public static IReadOnlyList<Route> Of(string service)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:monitor"] = "Host=127.0.0.1;Database=routes",
            ["LocalApi:SiteId"] = "fab1",
            ["Archiver:SiteId"] = "fab1",
            ["Sites:fab1"] = "http://127.0.0.1:1",
        });
        builder.AddServiceDefaults(defaultPort: 0);
        WebApplication app;
        switch (service)
        {
            case "localapi":
                builder.AddLocalApi();
                app = builder.Build();
                app.MapDefaultEndpoints();
                app.MapLocalApi();
                break;
            case "central":
                builder.AddCentralApi();
                app = builder.Build();
                app.MapDefaultEndpoints();
                app.MapCentralApi();
                break;
            case "archiver":
                builder.AddArchiver();
                app = builder.Build();
                app.MapDefaultEndpoints();
                app.MapArchiver();
                break;
            case "sidecar":
                builder.AddSidecar();
                app = builder.Build();
                app.MapDefaultEndpoints();
                app.MapSidecar();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(service), service, null);
        }
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(endpoint => Methods(endpoint).Select(method => new Route(
                service,
                method,
                "/" + endpoint.RoutePattern.RawText!.TrimStart('/'),
                endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null,
                [.. endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? "")])))
            .ToList();
        ((IDisposable)app).Dispose();
        return routes;
    }

    private static IEnumerable<string> Methods(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
}
