using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>The labels every alert may carry; a rule's own labels may not reuse these names.</summary>
public static class AlertLabels
{
    public static readonly string[] Reserved = ["alertname", "severity", "site", "app", "job_id", "business_key", "subjob", "sub_key", "node", "fingerprint"];
}

/// <summary>A condition one evaluation round found: an alert if it holds for the rule's <c>for</c>.</summary>
internal sealed record AlertCandidate(AlertRule Rule, SortedDictionary<string, string> Labels, Dictionary<string, string> Annotations)
{
    public string Fingerprint { get; } = FingerprintOf(Labels);

    public string? App => Labels.GetValueOrDefault("app");

    /// <summary>Identifies an alert by its labels (rule name included as <c>alertname</c>), like Alertmanager's fingerprint.</summary>
    public static string FingerprintOf(SortedDictionary<string, string> labels)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in labels)
            text.Append(name).Append('\u001f').Append(value).Append('\u001e');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 16));
    }
}

/// <summary>Readable durations and the annotation templates.</summary>
internal static class AlertText
{
    /// <summary>The two largest non-zero units: <c>45s</c>, <c>11m</c>, <c>1h</c>, <c>2h30m</c>, <c>3d4h</c>.</summary>
    public static string Duration(TimeSpan span)
    {
        var seconds = (long)Math.Floor(Math.Max(0, span.TotalSeconds));
        if (seconds == 0)
            return span > TimeSpan.Zero ? $"{span.TotalMilliseconds:0}ms" : "0s";
        (long Amount, string Unit)[] parts = [(seconds / 86400, "d"), (seconds / 3600 % 24, "h"), (seconds / 60 % 60, "m"), (seconds % 60, "s")];
        var first = Array.FindIndex(parts, p => p.Amount > 0);
        return string.Concat(parts.Skip(first).Take(2).Where(p => p.Amount > 0).Select(p => $"{p.Amount}{p.Unit}"));
    }

    public static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Replaces each <c>{name}</c> with its value (empty when unknown), then collapses the spaces left behind.</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        var text = new StringBuilder(template.Length + 64);
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = open < 0 ? -1 : template.IndexOf('}', open + 1);
            if (close < 0)
            {
                text.Append(template, i, template.Length - i);
                break;
            }
            text.Append(template, i, open - i);
            var name = template[(open + 1)..close];
            text.Append(values.TryGetValue(name, out var value) ? value : "");
            i = close + 1;
        }
        return string.Join(' ', text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
