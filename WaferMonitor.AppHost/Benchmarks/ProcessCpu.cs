namespace WaferMonitor.AppHost.Benchmarks;

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
        if (processId is not { } pid || Stat(pid) is not { } own)
            return TimeSpan.Zero;
        var ticks = own.User + own.System + own.ChildrenUser + own.ChildrenSystem;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var child) && Stat(child) is { } stat && stat.Parent == pid)
                ticks += stat.User + stat.System;
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    private sealed record ProcStat(int Parent, long User, long System, long ChildrenUser, long ChildrenSystem);

    /// <summary>Fields 4 and 14–17 of <c>/proc/[pid]/stat</c>; the command name (field 2) may hold spaces, so fields are
    /// counted after its closing parenthesis.</summary>
    private static ProcStat? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state).
        var number = System.Globalization.CultureInfo.InvariantCulture;
        return new ProcStat(int.Parse(fields[1], number), long.Parse(fields[11], number), long.Parse(fields[12], number),
            long.Parse(fields[13], number), long.Parse(fields[14], number));
    }
}
