using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WaferMonitor.LocalApi.Errors;

/// <summary>A failure's group: its fingerprint and the readable title the group is listed under.</summary>
public sealed record ErrorSignature(string Fingerprint, string Title, string? ErrorType, string? Message);

/// <summary>
/// Groups failures as Sentry does: by app, <c>metadata.error_type</c> and the error message with its variable parts
/// (timestamps, UUIDs, quoted values, paths, hex ids, numbers) replaced by placeholders — or by the application's own
/// <c>metadata.fingerprint</c> (a string or an array of strings) when it sends one.
/// </summary>
public static partial class ErrorFingerprint
{
    public const string ErrorTypeKey = "error_type";
    public const string MessageKey = "error";
    public const string FingerprintKey = "fingerprint";

    private const int MaxTitleLength = 200;
    private const int MaxNormalisedLength = 1000;
    public const int MaxMessageLength = 2000;

    public static ErrorSignature Compute(string app, JsonElement? metadata)
    {
        var errorType = Text(metadata, ErrorTypeKey);
        var message = Text(metadata, MessageKey);
        var normalised = message is null ? null : Normalise(message);
        var explicitParts = ExplicitFingerprint(metadata);
        var identity = explicitParts is null
            ? string.Join('\u001f', app, errorType ?? "", normalised ?? "")
            : string.Join('\u001f', [app, "explicit", .. explicitParts]);
        var title = (errorType, normalised) switch
        {
            (null, null) => explicitParts is null ? "failed without an error message" : string.Join(' ', explicitParts),
            (null, _) => normalised!,
            (_, null) => errorType,
            _ => $"{errorType}: {normalised}",
        };
        return new ErrorSignature(Hash(identity), Truncate(title, MaxTitleLength), errorType, message is null ? null : Truncate(message, MaxMessageLength));
    }

    /// <summary>The message with its variable parts replaced, whitespace collapsed; the order matters (a timestamp holds numbers).</summary>
    /// <remarks>A pattern is only run when the message holds a character it needs: most messages have no path or quote.</remarks>
    public static string Normalise(string message)
    {
        var text = message;
        if (text.AsSpan().IndexOfAnyInRange('0', '9') >= 0)
        {
            text = Timestamp().Replace(text, "<ts>");
            text = Uuid().Replace(text, "<uuid>");
        }
        if (text.AsSpan().IndexOfAny(QuoteCharacters) >= 0)
            text = Quoted().Replace(text, "<str>");
        if (text.AsSpan().IndexOfAny('/', '\\') >= 0)
            text = FilePath().Replace(text, "<path>");
        if (text.AsSpan().IndexOfAnyInRange('0', '9') >= 0)
        {
            text = HexId().Replace(text, "<hex>");
            text = Number().Replace(text, "<n>");
        }
        text = Whitespace().Replace(text, " ").Trim();
        return Truncate(text, MaxNormalisedLength);
    }

    private static readonly SearchValues<char> QuoteCharacters = SearchValues.Create("\"'`“‘");

    private static string[]? ExplicitFingerprint(JsonElement? metadata)
    {
        if (metadata is not { ValueKind: JsonValueKind.Object } meta || !meta.TryGetProperty(FingerprintKey, out var value))
            return null;
        string[] parts = value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array => [.. value.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? p.GetString()! : p.GetRawText())],
            _ => [],
        };
        return parts.Length == 0 || parts.All(string.IsNullOrWhiteSpace) ? null : parts;
    }

    private static string? Text(JsonElement? metadata, string key) =>
        metadata is { ValueKind: JsonValueKind.Object } meta && meta.TryGetProperty(key, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String when value.GetString()!.Trim() is { Length: > 0 } text => text,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>128 bits of SHA-256 in hex: short enough for a URL, collision-free in practice.</summary>
    private static string Hash(string identity) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32];

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Uuid();

    [GeneratedRegex("""("[^"\r\n]*"|'[^'\r\n]*'|`[^`\r\n]*`|“[^”\r\n]*”|‘[^’\r\n]*’)""")]
    private static partial Regex Quoted();

    /// <summary>Absolute or relative paths with at least one separator after a name: <c>/data/x.csv</c>, <c>C:\recipes\a.rcp</c>, <c>./run/7</c>.</summary>
    [GeneratedRegex(@"(?:\b[A-Za-z]:|\.{1,2}|~)?(?:[\\/][\w.\-@~]+){2,}[\\/]?|(?:\b[A-Za-z]:|\.{1,2}|~)[\\/][\w.\-@~]+|(?<![\w<])/[\w.\-@~]+\.\w+")]
    private static partial Regex FilePath();

    /// <summary><c>0x1f</c>, or a run of six or more hex digits that holds a digit (so words such as "facade" stay).</summary>
    [GeneratedRegex(@"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b")]
    private static partial Regex HexId();

    [GeneratedRegex(@"\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")]
    private static partial Regex Number();

    /// <summary>Runs of whitespace, and whitespace other than a space: a lone space needs no replacing.</summary>
    [GeneratedRegex(@"\s{2,}|[\t\r\n\f\v]")]
    private static partial Regex Whitespace();
}
