using System.Diagnostics;

namespace WaferMonitor.Archiver;

/// <summary>The Archiver's spans: <c>archive.window</c> per archived window.</summary>
internal static class ArchiverTelemetry
{
    public static readonly ActivitySource Source = new("WaferMonitor.Archiver");
}
