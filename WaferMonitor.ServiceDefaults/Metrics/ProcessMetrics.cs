using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>
/// Process series under the names every Prometheus client library uses, so dashboards and the memory alert work
/// unchanged. Hand-written because the OpenTelemetry packages name them otherwise (<c>process.cpu.time</c>…); .NET's
/// own <c>System.Runtime</c> meter covers GC, threads and the rest under OpenTelemetry names.
/// </summary>
internal sealed class ProcessMetrics : Microsoft.Extensions.Hosting.IHostedService
{
    public const string MeterName = "WaferMonitor.Process";

    public ProcessMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        using var self = Process.GetCurrentProcess();
        var startTime = new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        meter.CreateObservableCounter("process_cpu_seconds_total", () => Environment.CpuUsage.TotalTime.TotalSeconds,
            unit: "s", description: "Total user and system CPU time spent in seconds.");
        meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet,
            unit: "By", description: "Resident memory size in bytes.");
        meter.CreateObservableGauge("process_start_time_seconds", () => startTime,
            unit: "s", description: "Start time of the process since unix epoch in seconds.");
        meter.CreateObservableGauge("process_virtual_memory_bytes", VirtualMemoryBytes,
            unit: "By", description: "Virtual memory size in bytes.");
    }

    // Hosted only so the instruments exist from start-up, before anything asks for them.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static long VirtualMemoryBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.VirtualMemorySize64;
    }
}
