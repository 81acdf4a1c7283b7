using System.Runtime.InteropServices;

namespace WaferMonitor.Cli.Processes;

/// <summary>
/// The libc calls .NET has no API for: sending a chosen signal (Process.Kill only sends SIGKILL) and asking whether
/// we are the terminal's foreground process group.
/// </summary>
internal static partial class Posix
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getpgrp")]
    private static partial int GetProcessGroup();

    [LibraryImport("libc", EntryPoint = "tcgetpgrp")]
    private static partial int GetTerminalForegroundGroup(int fd);

    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>
    /// True when stdin is a terminal whose foreground group is ours: a Ctrl+C there already reached the child,
    /// which shares our process group, so forwarding SIGINT would deliver it twice.
    /// </summary>
    public static bool InForegroundOfTerminal() => GetTerminalForegroundGroup(0) is var group && group > 0 && group == GetProcessGroup();
}
