using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Storage;

/// <summary>v2's <c>database_pool</c> of <c>/v1/healthz</c>: <c>connected</c> when the <c>database</c> check reached PostgreSQL.</summary>
internal sealed class DatabasePoolHealthzField : IHealthzFields
{
    public void Write(Utf8JsonWriter writer, HealthReport report) =>
        writer.WriteString("database_pool",
            report.Entries.TryGetValue("database", out var database) && database.Status == HealthStatus.Healthy ? "connected" : "disconnected");
}
