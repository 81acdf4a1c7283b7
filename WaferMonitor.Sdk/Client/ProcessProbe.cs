using System.Diagnostics;

namespace WaferMonitor.Sdk.Client;

internal readonly record struct CpuTimes(TimeSpan User, TimeSpan System);

/// <summary>Reads the process's CPU time and working set; a seam so tests can script memory readings.</summary>
internal class ProcessProbe
{
    public virtual CpuTimes ReadCpu()
    {
        try
        {
            using var process = Process.GetCurrentProcess();
            return new CpuTimes(process.UserProcessorTime, process.PrivilegedProcessorTime);
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or NotSupportedException or InvalidOperationException)
        {
            return default;
        }
    }

    public virtual long ReadWorkingSet() => Environment.WorkingSet;
}
