using System.Diagnostics;

namespace WaferMonitor.CentralApi;

/// <summary>CentralApi's spans: <c>central.site</c> per site call of a fan-out or forward.</summary>
internal static class CentralTelemetry
{
    public static readonly ActivitySource Source = new("WaferMonitor.CentralApi");
}
