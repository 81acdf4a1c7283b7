using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.CentralApi.Sites;

/// <summary>
/// v2's <c>sites</c> of <c>/v1/healthz</c>: <c>{"fab1": {"status", "endpoint", "error"?}}</c>, each site's last known
/// status as <c>/v1/sites</c> shows it (<c>error</c> only when there is one).
/// </summary>
internal sealed class SitesHealthzField(SiteHealthMonitor monitor) : IHealthzFields
{
    public void Write(Utf8JsonWriter writer, HealthReport report)
    {
        writer.WriteStartObject("sites");
        foreach (var site in monitor.Current)
        {
            writer.WriteStartObject(site.SiteId);
            writer.WriteString("status", site.Status);
            writer.WriteString("endpoint", site.Endpoint);
            if (site.Error is not null)
                writer.WriteString("error", site.Error);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}
