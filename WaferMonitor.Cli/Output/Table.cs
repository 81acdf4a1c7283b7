namespace WaferMonitor.Cli;

/// <summary>Columns aligned to their widest cell; the status column coloured (padding first, so colour codes do not count).</summary>
internal static class Table
{
    public static void Write(string[] header, IReadOnlyList<string[]> rows, int statusColumn)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        Console.WriteLine(Terminal.Bold(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd()));
        foreach (var row in rows)
        {
            var cells = row.Select((cell, i) => i == statusColumn ? Terminal.Status(cell, widths[i]) : cell.PadRight(widths[i]));
            Console.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
