using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WaferMonitor.ServiceDefaults.Health;

/// <summary>
/// A service's own top-level fields of <c>/v1/healthz</c>, beside <c>status</c>, <c>service</c>, <c>version</c> and
/// <c>checks</c>: v2's services each answered a few more (the Sidecar its spool, LocalApi its database pool, CentralApi
/// its sites), and v2's clients read them.
/// </summary>
public interface IHealthzFields
{
    void Write(Utf8JsonWriter writer, HealthReport report);
}
