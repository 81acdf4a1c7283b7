using System.Globalization;
using System.Text;

namespace WaferMonitor.Tests.Fuzz;

/// <summary>One generated event: its exact bytes, its idempotency key, and whether the ingest contract must accept it.</summary>
public sealed record FuzzEvent(byte[] Json, string Key, bool ShouldAccept, string Mutation);

/// <summary>
/// Seeded generator of v2 events, most of them mutated in one place (every field; Unicode edge cases; numbers at and past
/// what a double and jsonb hold; timestamps; duplicate keys; nesting; unknown members), each labelled with whether the
/// contract accepts it. Hand-written rather than with CsCheck: the interesting inputs are raw bytes (lone surrogates,
/// invalid UTF-8) that a value generator would never produce, and every case must carry its expected verdict.
/// </summary>
public sealed class EventFuzzer(int seed, string site, string keyPrefix)
{
    private readonly Random random = new(seed);
    private int next;

    private static readonly string[] Fields =
        ["key", "site", "app_name", "app_version", "business_key", "sub_key", "kind", "status", "at", "metric", "metadata", "extra"];

    /// <summary>Strings that are valid anywhere free text goes (JSON-escaped where needed).</summary>
    private static readonly string[] ValidText = ["\"wafer-\\u00e9\"", "\"\\ud83d\\ude00 lot\"", "\"\u00e9t\u00e9\"", "\"\\uffff\"", "\"tab\\tnew\\nline\"", "\"\\\\u0000 is text\""];

    /// <summary>Strings no field may hold: lone surrogates, NUL, invalid UTF-8 bytes.</summary>
    private static readonly byte[][] InvalidText =
    [
        Bytes("\"a\\ud800\""), Bytes("\"\\udc00b\""), Bytes("\"\\ud83d\""), Bytes("\"x\\u0000y\""),
        [(byte)'"', 0xC3, 0x28, (byte)'"'], [(byte)'"', 0xFF, (byte)'"'], [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], [(byte)'"', 0xE2, 0x82, (byte)'"'],
    ];

    private static readonly string[] ValidNumbers = ["0", "-0", "1.7976931348623157e308", "4.9e-324", "123456789012345678901234567890", "-2.5E+10", "0.0e-1000", "1e+0300"];
    private static readonly string[] InvalidNumbers = ["1e200000", "-1e309", "1e-1000000", "1e-400", "1." + new string('0', 1001), "0.0e-99999", "0e1001"];

    /// <summary>What the "unicode key" mutation appends, unescaped.</summary>
    private const string UnicodeKeySuffix = "-\u00e9\U0001F600";

    public FuzzEvent Next()
    {
        var n = next++;
        var key = $"{keyPrefix}{n:D7}";
        var parts = new Dictionary<string, byte[]>
        {
            ["key"] = Bytes($"\"{key}\""),
            ["site"] = Bytes($"\"{site}\""),
            ["app_name"] = Bytes($"\"fuzz-app-{random.Next(5)}\""),
            ["app_version"] = Bytes("\"1.0\""),
            ["business_key"] = Bytes($"\"LOT-{random.Next(1000)}\""),
            ["sub_key"] = Bytes("null"),
            ["kind"] = Bytes("\"progress\""),
            ["status"] = Bytes("null"),
            ["at"] = Bytes($"\"{DateTimeOffset.UtcNow.AddMinutes(-random.Next(1, 600)).ToString("O", CultureInfo.InvariantCulture)}\""),
            ["metric"] = Bytes($"{random.Next(10000) / 100.0:0.00}"),
            ["metadata"] = Bytes("{\"step\": 1}"),
            ["extra"] = [],
        };
        var accept = true;
        var mutation = "none";
        if (random.NextDouble() < 0.8)
        {
            var field = Fields[random.Next(Fields.Length)];
            (parts[field], accept, mutation) = Mutate(field, key);
            mutation = $"{field}: {mutation}";
            if (field == "key" && accept)
                key += UnicodeKeySuffix;
        }
        var json = Concat(
            "{\"idempotency_key\": ", parts["key"], ", \"site_id\": ", parts["site"],
            $", \"app\": {{\"app_id\": \"{Guid.NewGuid()}\", \"name\": ", parts["app_name"], ", \"version\": ", parts["app_version"],
            $"}}, \"entity\": {{\"type\": \"job\", \"id\": \"{Guid.NewGuid()}\", \"parent_id\": null, \"business_key\": ", parts["business_key"],
            ", \"sub_key\": ", parts["sub_key"], "}, \"event\": {\"kind\": ", parts["kind"], ", \"at\": ", parts["at"],
            ", \"status\": ", parts["status"], ", \"metrics\": {\"cpu_user_s\": ", parts["metric"], "}, \"metadata\": ", parts["metadata"],
            "}", parts["extra"], "}");
        return new FuzzEvent(json, key, accept, mutation);
    }

    private (byte[] Value, bool Accept, string What) Mutate(string field, string key)
    {
        var free = field is "app_name" or "app_version" or "business_key" or "sub_key";
        switch (random.Next(field is "metadata" or "extra" or "metric" ? 3 : 2))
        {
            case 0 when free:
                var text = ValidText[random.Next(ValidText.Length)];
                return (Bytes(text), true, $"valid text {text}");
            case 0 when field == "key":
                return (Bytes($"\"{key}\\u002d\\u00e9\\ud83d\\ude00\""), true, "unicode key");
            case 0 when field == "at":
                return random.Next(5) switch
                {
                    0 => (Bytes("\"0001-01-01T00:00:00Z\""), false, "year 1"),
                    1 => (Bytes("\"1969-12-31T23:59:59Z\""), false, "before 1970"),
                    2 => (Bytes("\"9999-12-31T23:59:59Z\""), false, "far future"),
                    3 => (Bytes("\"2026-11-22T08:00:00\""), true, "no offset"),
                    _ => (Bytes("\"2026-11-22T22:00:00+14:00\""), true, "offset +14"),
                };
            case 0 when field == "kind":
                return random.Next(2) == 0 ? (Bytes("\"finished\""), true, "finished") : (Bytes("\"exploded\""), false, "unknown kind");
            case 0 when field == "status":
                return random.Next(2) == 0 ? (Bytes("\"failed\""), true, "failed") : (Bytes("\"melted\""), false, "unknown status");
            case 0 when field == "site":
                return (Bytes("\"elsewhere\""), false, "wrong site");
            case 0 when field == "extra":
                return (Bytes(", \"unknown\": {\"nested\": [1, {\"a\": null}]}"), true, "an unknown member");
            case 0:
                return (Bytes("{\"nested\": [1, {\"a\": null}]}"), field == "metadata", "an object");
            case 1:
                var bad = InvalidText[random.Next(InvalidText.Length)];
                // Only where a string may go: an invalid string makes the event invalid in any case.
                return field switch
                {
                    "metadata" => (Concat("{", bad, ": 1}"), false, "invalid key text"),
                    "extra" => (Concat(", \"unknown\": ", bad), false, "invalid text in an unknown member"),
                    _ => (bad, false, "invalid text"),
                };
            default:
                return NumberOrShape(field);
        }
    }

    private (byte[] Value, bool Accept, string What) NumberOrShape(string field)
    {
        var valid = random.Next(2) == 0;
        var number = valid ? ValidNumbers[random.Next(ValidNumbers.Length)] : InvalidNumbers[random.Next(InvalidNumbers.Length)];
        var shape = random.Next(4);
        if (field == "metric" || shape == 0)
        {
            var wrapped = field switch { "metadata" => $"{{\"n\": {number}}}", "extra" => $", \"unknown\": [{number}]", _ => number };
            return (Bytes(wrapped), valid, $"number {number[..Math.Min(number.Length, 30)]}");
        }
        var inner = shape switch
        {
            1 => ("{\"a\": 1, \"b\": 2, \"a\": 3}", false, "duplicate key"),
            2 => (Nested(random.Next(2) == 0 ? 40 : 70), false, "nesting"),
            _ => ("{\"wide\": {" + string.Join(", ", Enumerable.Range(0, 60).Select(i => $"\"k{i}\": {i}")) + "}}", true, "wide object"),
        };
        // Depth 40 inside metadata is within the limit; 70 is not.
        var accept = inner.Item3 == "nesting" ? inner.Item1.Count(c => c == '[') <= 50 : inner.Item2;
        return field == "metadata"
            ? (Bytes($"{{\"v\": {inner.Item1}}}"), accept, inner.Item3)
            : (Bytes($", \"unknown\": {inner.Item1}"), accept, inner.Item3);
    }

    private static string Nested(int levels) => new string('[', levels) + new string(']', levels);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(params object[] parts)
    {
        using var buffer = new MemoryStream();
        foreach (var part in parts)
            buffer.Write(part is byte[] bytes ? bytes : Bytes((string)part));
        return buffer.ToArray();
    }
}
