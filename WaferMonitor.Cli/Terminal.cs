namespace WaferMonitor.Cli;

/// <summary>Our own lines on stderr and colour on stdout; colour only for a terminal, never with NO_COLOR or TERM=dumb.</summary>
internal static class Terminal
{
    public static bool Colour { get; } =
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && Environment.GetEnvironmentVariable("TERM") != "dumb";

    public static void Warn(string message) => Console.Error.WriteLine($"wafermonitor: warning: {message}");

    public static void Error(string message) => Console.Error.WriteLine($"wafermonitor: error: {message}");

    public static string Red(string text) => Paint(text, "31");

    public static string Green(string text) => Paint(text, "32");

    public static string Yellow(string text) => Paint(text, "33");

    public static string Blue(string text) => Paint(text, "34");

    public static string Dim(string text) => Paint(text, "2");

    public static string Bold(string text) => Paint(text, "1");

    /// <summary>The colour of an entity status, as the pages show it.</summary>
    public static string Status(string? status, int width = 0)
    {
        var text = (status ?? "-").PadRight(width);
        return status switch
        {
            "succeeded" => Green(text),
            "failed" => Red(text),
            "canceled" => Yellow(text),
            "running" => Blue(text),
            _ => text,
        };
    }

    private static string Paint(string text, string code) => Colour ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
