using System.Diagnostics;

namespace WaferMonitor.LocalApi;

/// <summary>LocalApi's spans: <c>ingest.batch</c> per stored batch, one <c>db.*</c> span per database step in it.</summary>
internal static class LocalApiTelemetry
{
    public static readonly ActivitySource Source = new("WaferMonitor.LocalApi");
}
