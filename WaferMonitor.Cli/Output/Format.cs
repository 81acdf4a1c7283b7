using System.Globalization;
using System.Text.Json;

namespace WaferMonitor.Cli;

/// <summary>How times and durations look in tables and the stream: short, local time, fixed formats.</summary>
internal static class Format
{
    /// <summary>Local time; today's as HH:mm:ss, older ones with their date.</summary>
    public static string Time(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var at))
            return "-";
        var local = at.ToLocalTime();
        return local.Date == DateTime.Today
            ? local.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }

    /// <summary>1.2s, 3m05s, 2h10m; "-" when absent.</summary>
    public static string Seconds(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number)
            return "-";
        var seconds = value.GetDouble();
        return seconds switch
        {
            < 60 => seconds.ToString("0.0", CultureInfo.InvariantCulture) + "s",
            < 3600 => $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s",
            _ => $"{(int)(seconds / 3600)}h{(int)(seconds % 3600 / 60):00}m",
        };
    }
}
