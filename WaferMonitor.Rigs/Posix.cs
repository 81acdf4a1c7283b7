using System.Runtime.InteropServices;

namespace WaferMonitor.Rigs;

/// <summary>
/// Signals for graceful child shutdown: <see cref="System.Diagnostics.Process.Kill()"/> only sends SIGKILL, which
/// gives PostgreSQL and the services no chance to flush. libc's kill(2) is the only way from .NET.
/// </summary>
public static partial class Posix
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    public static bool IsAlive(int pid) => Kill(pid, 0) == 0;

    public static bool IsRoot => GetEffectiveUserId() == 0;
}
