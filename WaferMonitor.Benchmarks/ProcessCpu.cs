namespace WaferMonitor.Benchmarks;

/// <summary>
/// CPU time (user + system) a process has used, with its children: PostgreSQL's backends are children of the
/// postmaster, and those that exited are in its children's totals. Read from <c>/proc</c>, so Linux only (elsewhere,
/// and for a process that is gone, zero). <c>/proc</c> counts in USER_HZ, which Linux fixes at 100 per second.
/// </summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100;

    public static TimeSpan Of(int? processId)
    {
        if (processId is not { } pid || Stat($"/proc/{pid}/stat") is not { } own)
            return TimeSpan.Zero;
        var ticks = own.User + own.System + own.ChildrenUser + own.ChildrenSystem;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var child) && Stat($"/proc/{child}/stat") is { } stat && stat.Parent == pid)
                ticks += stat.User + stat.System;
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>CPU time the process itself has used, without its children.</summary>
    public static TimeSpan OwnOf(int processId) =>
        Stat($"/proc/{processId}/stat") is { } own ? TimeSpan.FromSeconds((own.User + own.System) / TicksPerSecond) : TimeSpan.Zero;

    /// <summary>
    /// The machine's CPU time so far, all cores: busy (any work, the kernel's included) and idle (waiting for I/O
    /// included), from the first line of <c>/proc/stat</c>.
    /// </summary>
    public static (TimeSpan Busy, TimeSpan Idle) Machine()
    {
        if (ReadOrNull("/proc/stat") is not { } text)
            return (TimeSpan.Zero, TimeSpan.Zero);
        var number = System.Globalization.CultureInfo.InvariantCulture;
        // cpu user nice system idle iowait irq softirq steal …
        var ticks = text[..text.IndexOf('\n')].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(field => long.Parse(field, number)).ToArray();
        var idle = ticks[3] + ticks[4];
        return (TimeSpan.FromSeconds((ticks.Sum() - idle) / TicksPerSecond), TimeSpan.FromSeconds(idle / TicksPerSecond));
    }

    /// <summary>
    /// CPU time of the process's tiered-compilation threads alive now, by thread: the .NET runtime re-compiling hot
    /// methods with optimisations, in the background, for a while after a code path starts being used. Linux shows the
    /// thread's name cut to 15 characters. A thread that exits takes its time with it, so differences are a lower bound.
    /// </summary>
    public static IReadOnlyDictionary<int, TimeSpan> CompilingThreadsOf(int? processId)
    {
        var threads = new Dictionary<int, TimeSpan>();
        if (processId is not { } pid)
            return threads;
        try
        {
            foreach (var directory in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                if (int.TryParse(Path.GetFileName(directory), out var tid)
                    && ReadOrNull(Path.Combine(directory, "comm"))?.StartsWith(".NET Tiered", StringComparison.Ordinal) == true
                    && Stat(Path.Combine(directory, "stat")) is { } stat)
                    threads[tid] = TimeSpan.FromSeconds((stat.User + stat.System) / TicksPerSecond);
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        return threads;
    }

    private sealed record ProcStat(int Parent, long User, long System, long ChildrenUser, long ChildrenSystem);

    /// <summary>Fields 4 and 14–17 of <c>/proc/[pid]/stat</c> (or of a thread's); the command name (field 2) may hold
    /// spaces, so fields are counted after its closing parenthesis.</summary>
    private static ProcStat? Stat(string path)
    {
        if (ReadOrNull(path) is not { } text)
            return null;
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state).
        var number = System.Globalization.CultureInfo.InvariantCulture;
        return new ProcStat(int.Parse(fields[1], number), long.Parse(fields[11], number), long.Parse(fields[12], number),
            long.Parse(fields[13], number), long.Parse(fields[14], number));
    }

    /// <summary>A file of <c>/proc</c>, or null when its process or thread is gone (or not ours to read).</summary>
    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
