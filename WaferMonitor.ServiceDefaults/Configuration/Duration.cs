using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WaferMonitor.ServiceDefaults.Configuration;

/// <summary>
/// A configuration duration. <see cref="TimeSpan"/> binding reads <c>72:00:00</c> as 72 days, a trap for a setting like
/// the 72 h hot window, so options use this type instead: it accepts <c>72h</c>, <c>5m</c>, <c>30s</c>, <c>250ms</c>,
/// <c>7d</c> and the unambiguous <c>d.hh:mm:ss</c> form, and refuses <c>hh:mm:ss</c> with 24 or more hours.
/// </summary>
[TypeConverter(typeof(DurationConverter))]
public readonly partial record struct Duration(TimeSpan Value)
{
    public static Duration FromHours(double hours) => new(TimeSpan.FromHours(hours));
    public static Duration FromMinutes(double minutes) => new(TimeSpan.FromMinutes(minutes));
    public static Duration FromSeconds(double seconds) => new(TimeSpan.FromSeconds(seconds));
    public static Duration FromDays(double days) => new(TimeSpan.FromDays(days));

    public static Duration Parse(string text)
    {
        text = text.Trim();
        var unit = UnitForm().Match(text);
        if (unit.Success)
        {
            var amount = double.Parse(unit.Groups["amount"].Value, CultureInfo.InvariantCulture);
            try
            {
                return new Duration(unit.Groups["unit"].Value switch
                {
                    "ms" => TimeSpan.FromMilliseconds(amount),
                    "s" => TimeSpan.FromSeconds(amount),
                    "m" => TimeSpan.FromMinutes(amount),
                    "h" => TimeSpan.FromHours(amount),
                    _ => TimeSpan.FromDays(amount),
                });
            }
            catch (OverflowException)
            {
                throw new FormatException($"'{text}' is longer than a duration can be (about 29,000 years)");
            }
        }
        var clock = AmbiguousClockForm().Match(text);
        if (clock.Success && int.Parse(clock.Groups["hours"].Value, CultureInfo.InvariantCulture) >= 24)
            throw new FormatException($"'{text}' is ambiguous (TimeSpan reads it as days); write e.g. '72h' or '3.00:00:00'");
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
            return new Duration(span);
        throw new FormatException($"'{text}' is not a duration; write e.g. '72h', '5m', '30s', '250ms', '7d' or '1.02:03:04'");
    }

    public override string ToString() => Value.ToString("c", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?<amount>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h|d)$")]
    private static partial Regex UnitForm();

    [GeneratedRegex(@"^(?<hours>\d+):\d{2}(:\d{2}(\.\d+)?)?$")]
    private static partial Regex AmbiguousClockForm();
}

public sealed class DurationConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? Duration.Parse(text) : base.ConvertFrom(context, culture, value);
}
