using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Tests.ServiceDefaults;

/// <summary>A web application with nothing but <c>AddServiceDefaults()</c>, on a free loopback port.</summary>
internal static class DefaultsHost
{
    public static WebApplication Build(Dictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults(defaultPort: 0);
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }
}
