using System.Runtime.InteropServices;

namespace WaferMonitor.Cli.Processes;

/// <summary>
/// The libc calls .NET has no API for: sending a chosen signal (Process.Kill only sends SIGKILL), the resource usage
/// of ended children, and whether we are the terminal's foreground process group.
/// </summary>
/// <summary>The CPU time the ended and waited-for descendants used.</summary>
internal readonly record struct ChildrenUsage(double UserSeconds, double SystemSeconds);

internal static partial class Posix
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetResourceUsage(int who, [Out] long[] usage);

    [LibraryImport("libc", EntryPoint = "getpgrp")]
    private static partial int GetProcessGroup();

    [LibraryImport("libc", EntryPoint = "tcgetpgrp")]
    private static partial int GetTerminalForegroundGroup(int fd);

    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>
    /// getrusage(RUSAGE_CHILDREN): the CPU time of every descendant that has ended and been waited for, to the
    /// microsecond. On 64-bit Linux struct rusage is 18 longs, starting with ru_utime and ru_stime (seconds,
    /// microseconds each). Its ru_maxrss is not used: a child's high-water mark includes the memory of this .NET
    /// process it was forked from, before it ran the command.
    /// </summary>
    public static ChildrenUsage ReapedChildren()
    {
        const int rusageChildren = -1;
        var usage = new long[18];
        if (GetResourceUsage(rusageChildren, usage) != 0)
            return default;
        return new ChildrenUsage(usage[0] + usage[1] / 1e6, usage[2] + usage[3] / 1e6);
    }

    /// <summary>
    /// True when stdin is a terminal whose foreground group is ours: a Ctrl+C there already reached the child,
    /// which shares our process group, so forwarding SIGINT would deliver it twice.
    /// </summary>
    public static bool InForegroundOfTerminal() => GetTerminalForegroundGroup(0) is var group && group > 0 && group == GetProcessGroup();
}
