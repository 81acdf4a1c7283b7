using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>The labels every alert may carry; a rule's own labels may not reuse these names.</summary>
public static class AlertLabels
{
    public static readonly string[] Reserved = ["alertname", "severity", "site", "app", "job_id", "business_key", "subjob", "sub_key", "node"];
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
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 120 ? $"{span.TotalSeconds:0}s"
        : span.TotalMinutes < 120 ? $"{span.TotalMinutes:0}m"
        : span.TotalHours < 48 ? $"{Math.Floor(span.TotalHours):0}h{span.Minutes:00}m"
        : $"{Math.Floor(span.TotalDays):0}d{span.Hours:00}h";

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
