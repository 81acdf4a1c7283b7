using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Fab;

/// <summary>A wrong or missing setting stops a service with one line naming the key and exit code 2.</summary>
public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("LocalApi", "", "LocalApi:SiteId")]
    [InlineData("LocalApi", "LocalApi__SiteId=fab1", "ConnectionStrings:monitor")]
    [InlineData("LocalApi", "LocalApi__SiteId=fab1|ConnectionStrings__monitor=Host=127.0.0.1;Port=1|Retention__Hot=72:00:00", "Retention:Hot")]
    [InlineData("Sidecar", "Sidecar__LocalApiUrl=not a url", "Sidecar:LocalApiUrl")]
    [InlineData("Sidecar", "Spool__MaxBytes=lots", "Spool:MaxBytes")]
    [InlineData("Sidecar", "Sidecar__LocalApiUrl=http://localapi-fab1|services__localapi-fab1__http__0=not a url", "services:localapi-fab1:http:0")]
    [InlineData("CentralApi", "SITES=garbage", "SITES")]
    [InlineData("Archiver", "", "Archiver:SiteId")]
    public async Task A_bad_setting_stops_the_service_with_one_line_naming_the_key(string service, string environment, string key)
    {
        var error = await StartupErrors.OneLineAsync(service, environment);
        Assert.Contains("configuration error", error);
        Assert.Contains(key, error);
    }
}
