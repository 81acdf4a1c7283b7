using WaferMonitor.CentralApi.Queries;
using WaferMonitor.CentralApi.Sites;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.CentralApi;

internal static class CentralApiExtensions
{
    public static WebApplicationBuilder AddCentralApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<CentralOptions>(CentralOptions.SectionName);
        builder.Services.AddSingleton<SiteDirectory>();
        builder.Services.AddHttpClient(SiteEndpoints.HttpClientName);
        return builder;
    }

    public static WebApplication MapCentralApi(this WebApplication app)
    {
        app.MapSiteEndpoints();
        return app;
    }
}
