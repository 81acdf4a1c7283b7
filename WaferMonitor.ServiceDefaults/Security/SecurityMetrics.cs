using System.Diagnostics.Metrics;

namespace WaferMonitor.ServiceDefaults.Security;

/// <summary><c>auth_failures_total{reason}</c>: missing, unknown or revoked credentials and wrong scopes, as they are refused.</summary>
public sealed class SecurityMetrics
{
    public const string MeterName = "WaferMonitor.Security";

    private readonly Counter<long> failures;

    public SecurityMetrics(IMeterFactory meterFactory)
    {
        failures = meterFactory.Create(MeterName).CreateCounter<long>("auth_failures",
            description: "Requests refused for their credential: reason missing, unknown, revoked or scope.");
    }

    public void Failed(string reason) => failures.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
