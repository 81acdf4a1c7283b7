using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WaferMonitor.ServiceDefaults.Health;

/// <summary>
/// Publishes each health check's last result as <c>health_check_status{check}</c> (1 healthy, 0.5 degraded,
/// 0 unhealthy), so Prometheus can alert on a dependency such as the database while the service itself still answers.
/// </summary>
internal sealed class HealthMetrics : IHealthCheckPublisher
{
    public const string MeterName = "WaferMonitor.Health";

    private readonly ConcurrentDictionary<string, double> status = new(StringComparer.Ordinal);

    public HealthMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("health_check_status",
            () => status.Select(s => new Measurement<double>(s.Value, new KeyValuePair<string, object?>("check", s.Key))),
            description: "Last result of each health check: 1 healthy, 0.5 degraded, 0 unhealthy.");
    }

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        foreach (var (name, entry) in report.Entries)
        {
            status[name] = entry.Status switch
            {
                HealthStatus.Healthy => 1,
                HealthStatus.Degraded => 0.5,
                _ => 0,
            };
        }
        return Task.CompletedTask;
    }
}
