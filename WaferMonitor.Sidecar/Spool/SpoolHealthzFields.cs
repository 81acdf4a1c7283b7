using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>
/// v2's <c>spool_count</c> and <c>spool_dir</c> of <c>/v1/healthz</c>. v2 counted the files of events waiting in its
/// spool directory; here it is the events in the spool not yet delivered to LocalApi (what <c>/v1/spool</c> calls
/// <c>events</c>), dead letters not included.
/// </summary>
internal sealed class SpoolHealthzFields(SegmentSpool spool) : IHealthzFields
{
    public void Write(Utf8JsonWriter writer, HealthReport report)
    {
        writer.WriteNumber("spool_count", spool.Status.Events);
        writer.WriteString("spool_dir", spool.DirectoryPath);
    }
}
