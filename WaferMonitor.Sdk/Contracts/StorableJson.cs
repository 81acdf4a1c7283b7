using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace WaferMonitor.Sdk.Contracts;

/// <summary>
/// Checks that one event's JSON is exactly what PostgreSQL's <c>jsonb</c> and <c>text</c> store, and unambiguous, so
/// nothing acknowledged can fail deeper down (docs: the ingest validation contract):
/// every string and key is valid Unicode (no lone surrogate, no invalid UTF-8) without NUL; every number is a finite
/// double that does not round a nonzero value to 0, is at most <see cref="MaxNumberLength"/> characters and has an
/// exponent within ±<see cref="MaxExponent"/> (so within <c>numeric</c>'s limits too); no object repeats a key; nesting is at most <see cref="MaxDepth"/> levels.
/// </summary>
/// <remarks>
/// Hand-written: System.Text.Json neither validates UTF-8 nor rejects duplicate keys while parsing a batch without
/// failing the whole batch, and knows nothing of PostgreSQL's limits. One pass of <see cref="Utf8JsonReader"/> over the
/// event's bytes, allocation-free for unescaped keys.
/// </remarks>
public static class StorableJson
{
    /// <summary>Levels of nesting an event may have, counting the event object itself (System.Text.Json's default).</summary>
    public const int MaxDepth = 64;

    /// <summary>Characters of one number literal; longer ones could pass <c>numeric</c>'s 16,383 digits after the point.</summary>
    public const int MaxNumberLength = 1000;

    /// <summary>The largest exponent PostgreSQL's <c>numeric</c> input takes (<c>NUMERIC_MAX_PRECISION</c>).</summary>
    public const int MaxExponent = 1000;

    /// <summary>Keys of one object compared pairwise before a set is built for it.</summary>
    private const int LinearKeyLimit = 32;

    /// <returns>Null when storable, else why not.</returns>
    public static string? Check(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        var keys = new ObjectKeys();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Enter();
                        break;
                    case JsonTokenType.EndObject:
                        keys.Leave();
                        break;
                    case JsonTokenType.PropertyName:
                        if (CheckString(ref reader, out var name) is { } badKey)
                            return $"a key in {PathAt(json, reader.TokenStartIndex, parentOnly: true)} {badKey}";
                        if (!keys.Add(json, ref reader, name))
                            return $"{PathAt(json, reader.TokenStartIndex, parentOnly: true)}: key '{Shorten(name ?? reader.GetString()!)}' appears twice in one object; which one counts would be a guess";
                        break;
                    case JsonTokenType.String:
                        if (CheckString(ref reader, out _) is { } badString)
                            return $"{PathAt(json, reader.TokenStartIndex)} {badString}";
                        break;
                    case JsonTokenType.Number:
                        if (CheckNumber(reader.ValueSpan) is { } badNumber)
                            return $"{PathAt(json, reader.TokenStartIndex)}: {badNumber}";
                        break;
                }
            }
            return null;
        }
        catch (JsonException)
        {
            // The JSON was parsed already: depth is the one rule the reader enforces beyond that.
            return $"event nests deeper than {MaxDepth} levels";
        }
    }

    /// <param name="unescaped">The string when it had to be unescaped to be checked; null when its bytes were checked as they are.</param>
    private static string? CheckString(ref Utf8JsonReader reader, out string? unescaped)
    {
        unescaped = null;
        if (!reader.ValueIsEscaped)
            return Utf8.IsValid(reader.ValueSpan) ? null : "is not valid UTF-8";
        try
        {
            unescaped = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return "holds a lone UTF-16 surrogate or invalid UTF-8 (\\ud800-\\udfff must come in pairs)";
        }
        // Unescaped control characters are not valid JSON, so a NUL can only arrive escaped.
        return unescaped.Contains('\0') ? "holds \\u0000; PostgreSQL stores no NUL character in text or jsonb" : null;
    }

    private static string? CheckNumber(ReadOnlySpan<byte> literal)
    {
        // The common case, decided without parsing: up to 15 characters and no exponent is a finite double, and
        // rounds to 0 only when it is 0.
        if (literal.Length <= 15 && literal.IndexOfAny((byte)'e', (byte)'E') < 0)
            return null;
        if (literal.Length > MaxNumberLength)
            return $"a number is longer than {MaxNumberLength} characters";
        if (!double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            return $"number {Shorten(literal)} is outside the range of a double (±1.7976931348623157e308)";
        if (value == 0 && HasNonzeroDigit(literal))
            return $"number {Shorten(literal)} is too small to be stored without becoming 0";
        if (ExponentBeyondLimit(literal))
            return $"number {Shorten(literal)} has an exponent beyond ±{MaxExponent}, which PostgreSQL's numeric refuses (even for 0)";
        return null;
    }

    private static bool ExponentBeyondLimit(ReadOnlySpan<byte> literal)
    {
        var e = literal.IndexOfAny((byte)'e', (byte)'E');
        if (e < 0)
            return false;
        var digits = literal[(e + 1)..].TrimStart("+-"u8).TrimStart((byte)'0');
        return digits.Length > 4 || (digits.Length > 0 && int.Parse(digits, CultureInfo.InvariantCulture) > MaxExponent);
    }

    private static bool HasNonzeroDigit(ReadOnlySpan<byte> literal)
    {
        foreach (var c in literal)
        {
            if (c is (byte)'e' or (byte)'E')
                return false;
            if (c is >= (byte)'1' and <= (byte)'9')
                return true;
        }
        return false;
    }

    /// <summary>
    /// The path (<c>event.metadata.steps[2].name</c>) of the token starting at <paramref name="offset"/>, found by reading
    /// the event again up to it: only a rejected event pays for it. For a key, <paramref name="parentOnly"/> gives the
    /// path of its object.
    /// </summary>
    private static string PathAt(ReadOnlySpan<byte> json, long offset, bool parentOnly = false)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        var frames = new List<(bool IsArray, string? Name, int Index)>();
        while (reader.Read() && reader.TokenStartIndex < offset)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    frames[^1] = (false, reader.GetString(), 0);
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    frames.Add((reader.TokenType == JsonTokenType.StartArray, null, 0));
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    frames.RemoveAt(frames.Count - 1);
                    NextElement();
                    break;
                default:
                    NextElement();
                    break;
            }
        }
        var path = new StringBuilder();
        for (var i = 0; i < frames.Count - (parentOnly ? 1 : 0); i++)
        {
            if (frames[i].IsArray)
                path.Append('[').Append(frames[i].Index).Append(']');
            else if (frames[i].Name is { } name)
                path.Append(path.Length == 0 ? "" : ".").Append(name);
        }
        return path.Length == 0 ? "the event" : path.ToString();

        void NextElement()
        {
            if (frames.Count > 0 && frames[^1].IsArray)
                frames[^1] = (true, null, frames[^1].Index + 1);
        }
    }

    private static string Shorten(ReadOnlySpan<byte> literal) => Shorten(Encoding.ASCII.GetString(literal[..Math.Min(literal.Length, 41)]));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>The keys of the objects being read, innermost last, to find a key that repeats in its object.</summary>
    private sealed class ObjectKeys
    {
        private readonly List<Key> keys = [];
        private readonly Stack<(int Start, HashSet<string>? Set)> objects = new();

        public void Enter() => objects.Push((keys.Count, null));

        public void Leave()
        {
            var (start, _) = objects.Pop();
            keys.RemoveRange(start, keys.Count - start);
        }

        /// <returns>False when the current object already has this key.</returns>
        public bool Add(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, string? unescaped)
        {
            var (start, set) = objects.Peek();
            var key = unescaped is null
                ? new Key((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, null)
                : new Key(0, 0, Encoding.UTF8.GetBytes(unescaped));
            if (set is not null)
                return set.Add(key.Text(json));
            var bytes = key.Bytes(json);
            for (var i = start; i < keys.Count; i++)
            {
                if (keys[i].Bytes(json).SequenceEqual(bytes))
                    return false;
            }
            keys.Add(key);
            if (keys.Count - start > LinearKeyLimit)
            {
                // A large object (wide metadata): pairwise comparison would be quadratic.
                set = new HashSet<string>(StringComparer.Ordinal);
                for (var i = start; i < keys.Count; i++)
                    set.Add(keys[i].Text(json));
                objects.Pop();
                objects.Push((start, set));
            }
            return true;
        }

        private readonly record struct Key(int Offset, int Length, byte[]? Unescaped)
        {
            public ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> json) => Unescaped ?? json.Slice(Offset, Length);
            public string Text(ReadOnlySpan<byte> json) => Encoding.UTF8.GetString(Bytes(json));
        }
    }
}
