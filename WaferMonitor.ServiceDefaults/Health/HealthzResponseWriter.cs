using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Health;

/// <summary>Writes the <c>/v1/healthz</c> body of DESIGN.md §4.6.</summary>
internal static class HealthzResponseWriter
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        var identity = context.RequestServices.GetRequiredService<IOptions<ServiceIdentity>>().Value;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("status", Vocabulary(report.Status));
        writer.WriteString("service", identity.Name);
        writer.WriteString("version", identity.Version);
        if (identity.Site is not null)
            writer.WriteString("site", identity.Site);
        writer.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", Vocabulary(entry.Status));
            writer.WriteString("detail", entry.Description ?? entry.Exception?.Message);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public static string Vocabulary(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
