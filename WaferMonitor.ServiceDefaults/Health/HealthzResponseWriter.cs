using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Health;

/// <summary>Writes the <c>/v1/healthz</c> body of DESIGN.md §4.6, a superset of v2's.</summary>
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
        foreach (var fields in context.RequestServices.GetServices<IHealthzFields>())
            fields.Write(writer, report);
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

    /// <summary>v2's words: v2's clients test <c>status == "ok"</c>; <c>unhealthy</c> (with 503) is ours.</summary>
    public static string Vocabulary(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "ok",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
