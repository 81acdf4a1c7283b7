using System.Text.Json;

namespace WaferMonitor.Rigs;

/// <summary>
/// The AppHost's single console: every resource line prefixed with its name. Children log JSON lines; they are shown
/// in a readable form (level, message) while the raw lines go to <c>&lt;state-dir&gt;/logs/&lt;resource&gt;.log</c>.
/// </summary>
public sealed class ConsoleSink(TextWriter output, bool quiet)
{
    private readonly Lock gate = new();
    private readonly int width = 16;

    public void Line(string resource, string line)
    {
        if (quiet)
            return;
        var readable = Readable(line);
        lock (gate)
            output.WriteLine($"{resource.PadRight(width)} | {readable}");
    }

    public void Info(string message)
    {
        if (quiet)
            return;
        lock (gate)
            output.WriteLine(message);
    }

    /// <summary>Always shown, even when quiet: the table of endpoints and crash reports.</summary>
    public void Always(string message)
    {
        lock (gate)
            output.WriteLine(message);
    }

    private static string Readable(string line)
    {
        if (!line.StartsWith('{'))
            return line;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (!root.TryGetProperty("message", out var message))
                return line;
            var level = root.TryGetProperty("level", out var l) ? l.GetString() : "info";
            var text = $"{level,-8} {message.GetString()}";
            if (root.TryGetProperty("exception", out var exception))
                text += Environment.NewLine + exception.GetString();
            return text;
        }
        catch (JsonException)
        {
            return line;
        }
    }
}
