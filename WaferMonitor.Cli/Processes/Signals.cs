namespace WaferMonitor.Cli.Processes;

/// <summary>Linux signal numbers and names, for exit codes above 128 (a shell's 128 + signal) and for forwarding.</summary>
internal static class Signals
{
    public const int SigHup = 1;
    public const int SigInt = 2;
    public const int SigQuit = 3;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    private static readonly string[] Names =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    /// <summary>
    /// The signal an exit code stands for, as shells report it: .NET (like a shell) gives a child killed by signal n
    /// the exit code 128 + n, so a process that deliberately exits with 143 is indistinguishable from SIGTERM.
    /// </summary>
    public static string? FromExitCode(int exitCode) =>
        exitCode > 128 && exitCode - 128 < Names.Length ? Names[exitCode - 128] : null;
}
