using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Archiver;

internal static class ArchiverExtensions
{
    public const string ConnectionName = "monitor";

    public static WebApplicationBuilder AddArchiver(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ArchiverOptions>(ArchiverOptions.SectionName);
        builder.Services.AddServiceSite<ArchiverOptions>(o => o.SiteId);
        builder.AddNpgsqlDataSource(ConnectionName);
        return builder;
    }
}
