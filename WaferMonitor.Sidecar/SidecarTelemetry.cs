using System.Diagnostics;

namespace WaferMonitor.Sidecar;

/// <summary>The Sidecar's spans: <c>spool.append</c> per request, <c>forward.batch</c> per delivered batch.</summary>
internal static class SidecarTelemetry
{
    public static readonly ActivitySource Source = new("WaferMonitor.Sidecar");
}
