using System.Globalization;

namespace WaferMonitor.Benchmarks;

/// <summary>Resident memory from <c>/proc/[pid]/status</c> (Linux only; zero for a process that is gone).</summary>
internal static class ProcessMemory
{
    /// <summary>The process's resident set (<c>VmRSS</c>).</summary>
    public static long ResidentBytes(int? processId) => processId is { } pid ? Field(pid, "VmRSS") : 0;

    /// <summary>
    /// PostgreSQL's resident memory, all processes: each one's private memory (<c>RssAnon</c>) and mapped files, and the
    /// shared buffers (<c>RssShmem</c>) once — every backend maps them, so a sum of <c>VmRSS</c> would count them many times.
    /// </summary>
    public static long PostgresResidentBytes(int? postmasterId)
    {
        if (postmasterId is not { } postmaster)
            return 0;
        var processes = new List<int> { postmaster };
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && pid != postmaster && Field(pid, "PPid") == postmaster)
                processes.Add(pid);
        }
        return processes.Sum(pid => Field(pid, "RssAnon") + Field(pid, "RssFile")) + processes.Max(pid => Field(pid, "RssShmem"));
    }

    /// <summary>A field of the status file in bytes (the file gives kB), or its number as is (<c>PPid</c>).</summary>
    private static long Field(int pid, string name)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/status");
        }
        catch (IOException)
        {
            return 0;
        }
        var line = lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        if (line is null)
            return 0;
        var parts = line[(name.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var value = long.Parse(parts[0], CultureInfo.InvariantCulture);
        return parts.Length > 1 && parts[1] == "kB" ? value * 1024 : value;
    }
}
