using System.Globalization;

namespace WaferMonitor.Cli.Processes;

/// <summary>One look at the child's process tree.</summary>
internal readonly record struct TreeSample(int Processes, double ResidentMb);

/// <summary>
/// Peak memory of a process and all its descendants, read by hand from /proc because .NET's Process reports one
/// process only. Each sample walks /proc/*/stat for parent links, then sums VmRSS of the tree; the peak reported is
/// the largest such sum, and never less than the largest VmHWM (a process's own high-water mark, which also catches
/// spikes between samples) of any single process seen.
/// </summary>
internal sealed class ProcessTreeMeter(int rootPid)
{
    private long _peakTreeKb;
    private long _peakSingleKb;

    public double PeakMemoryMb => Math.Max(Interlocked.Read(ref _peakTreeKb), Interlocked.Read(ref _peakSingleKb)) / 1024.0;

    public TreeSample Sample()
    {
        var tree = Descendants(rootPid);
        long treeKb = 0;
        foreach (var pid in tree)
        {
            var (rssKb, hwmKb) = ReadMemory(pid);
            treeKb += rssKb;
            Raise(ref _peakSingleKb, hwmKb);
        }
        Raise(ref _peakTreeKb, treeKb);
        return new TreeSample(tree.Count, treeKb / 1024.0);
    }

    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            var parent = ReadParent(directory);
            if (parent <= 0)
                continue;
            if (!children.TryGetValue(parent, out var list))
                children[parent] = list = [];
            list.Add(pid);
        }
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var list))
                tree.AddRange(list);
        }
        return tree;
    }

    private static int ReadParent(string procDirectory)
    {
        try
        {
            var fields = StatFields(File.ReadAllText(Path.Combine(procDirectory, "stat")));
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0; // the process ended while we looked
        }
    }

    /// <summary>The fields after "pid (comm)": comm may hold spaces and parentheses, so split after the last ')'.</summary>
    private static string[] StatFields(string stat) =>
        stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    private static (long RssKb, long HwmKb) ReadMemory(int pid)
    {
        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = Kilobytes(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    hwm = Kilobytes(line);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // ended while we looked: it no longer holds memory
        }
        return (rss, hwm);
    }

    /// <summary>"VmRSS:	  204800 kB" → 204800.</summary>
    private static long Kilobytes(string line) =>
        long.TryParse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb : 0;

    private static void Raise(ref long peak, long value)
    {
        var current = Interlocked.Read(ref peak);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref peak, value, current);
            if (seen == current)
                return;
            current = seen;
        }
    }
}
