using System.Text;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Contracts;

/// <summary>
/// Inputs found by fuzzing the fab that passed validation and failed in PostgreSQL or in the parser (issue 19): each is
/// now refused at the edge, naming why, by the parser the Sidecar and LocalApi share.
/// </summary>
public sealed class StorableJsonTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    private static ParsedEvent ParseBytes(byte[] utf8) =>
        EventParser.Parse(JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 1000 }).RootElement, new IngestLimits(), null, Now);

    private static ParsedEvent Parse(string json) => ParseBytes(Encoding.UTF8.GetBytes(json));

    /// <summary>The v2 event with the JSON text at <paramref name="field"/> (a JSON value) replaced verbatim.</summary>
    private static string WithRaw(string field, string rawValue)
    {
        var marker = field switch
        {
            "idempotency_key" => "\"7b1e0c3a-5d1f-4d0e-9a57-0f5b7e4c2d11\"",
            "site_id" => "\"fab1\"",
            "app.name" => "\"wafer-process\"",
            "app.version" => "\"2.1.0\"",
            "entity.business_key" => "\"batch-12345\"",
            "event.status" => "\"succeeded\"",
            "event.at" => "\"2026-11-22T07:59:00.123+00:00\"",
            "event.metadata" => "{\"any\": \"json\"}",
            "event.metrics.custom" => "7",
            _ => throw new ArgumentException(field),
        };
        Assert.Contains(marker, EventParserTests.V2Event);
        return EventParserTests.V2Event.Replace(marker, rawValue);
    }

    [Theory]
    [InlineData("idempotency_key")]
    [InlineData("site_id")]
    [InlineData("app.name")]
    [InlineData("app.version")]
    [InlineData("entity.business_key")]
    [InlineData("event.status")]
    [InlineData("event.at")]
    public void A_lone_surrogate_in_a_named_field_is_invalid_not_an_exception(string field)
    {
        var parsed = Parse(WithRaw(field, "\"a\\ud800b\""));
        Assert.False(parsed.IsValid);
        Assert.Equal(RejectionCodes.Invalid, parsed.Code);
        Assert.Contains("surrogate", parsed.Error);
    }

    [Theory]
    [InlineData("{\"note\": \"\\udc00\"}")]
    [InlineData("{\"\\ud800\": 1}")]
    [InlineData("{\"deep\": [{\"x\": \"\\ud83d\"}]}")]
    public void A_lone_surrogate_anywhere_in_metadata_is_invalid(string metadata)
    {
        Assert.Contains("surrogate", Parse(WithRaw("event.metadata", metadata)).Error);
    }

    [Fact]
    public void A_surrogate_pair_is_valid()
    {
        var parsed = Parse(WithRaw("event.metadata", "{\"emoji\": \"\\ud83d\\ude00\", \"\\ud83d\\ude00\": \"\u00e9\"}"));
        Assert.True(parsed.IsValid, parsed.Error);
    }

    [Theory]
    [InlineData("event.metadata", new byte[] { (byte)'{', (byte)'"', (byte)'k', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' })]
    [InlineData("event.metadata", new byte[] { (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData("app.name", new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' })]
    public void Invalid_utf8_bytes_are_invalid(string field, byte[] rawValue)
    {
        var json = Encoding.UTF8.GetBytes(WithRaw(field, "\"PLACEHOLDER\""));
        var at = json.AsSpan().IndexOf("\"PLACEHOLDER\""u8);
        var bytes = json[..at].Concat(rawValue).Concat(json[(at + "\"PLACEHOLDER\"".Length)..]).ToArray();
        var parsed = ParseBytes(bytes);
        Assert.False(parsed.IsValid);
        Assert.Contains("UTF-8", parsed.Error);
    }

    [Theory]
    [InlineData("1e200000")]
    [InlineData("-1e309")]
    [InlineData("1e-1000000")]
    [InlineData("1e-400")]
    [InlineData("0.0e-99999")]
    [InlineData("0E+1001")]
    public void A_number_a_double_or_jsonb_cannot_hold_is_invalid_anywhere(string number)
    {
        Assert.False(Parse(WithRaw("event.metadata", $"{{\"n\": {number}}}")).IsValid);
        Assert.False(Parse(WithRaw("event.metrics.custom", number)).IsValid);
        var withUnknownField = EventParserTests.V2Event.TrimEnd()[..^1] + $", \"unknown\": [{number}]}}";
        Assert.Contains("unknown[0]", Parse(withUnknownField).Error);
    }

    [Theory]
    [InlineData("1.79e308")]
    [InlineData("0.0e-1000")]
    [InlineData("-0")]
    [InlineData("4.9e-324")]
    [InlineData("123456789012345678901234567890")]
    public void Numbers_within_double_range_are_valid(string number)
    {
        var parsed = Parse(WithRaw("event.metadata", $"{{\"n\": {number}}}"));
        Assert.True(parsed.IsValid, parsed.Error);
    }

    [Fact]
    public void A_number_literal_longer_than_the_limit_is_invalid()
    {
        var parsed = Parse(WithRaw("event.metadata", $"{{\"n\": 1.{new string('0', StorableJson.MaxNumberLength)}}}"));
        Assert.Contains("longer", parsed.Error);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59Z")]
    public void Timestamps_before_1970_are_invalid(string at)
    {
        var parsed = Parse(WithRaw("event.at", $"\"{at}\""));
        Assert.Contains("event.at must be between 1970-01-01", parsed.Error);
    }

    [Theory]
    [InlineData("{\"a\": 1, \"a\": 2}")]
    [InlineData("{\"a\": 1, \"\\u0061\": 2}")]
    [InlineData("{\"x\": {\"b\": 1, \"c\": 2, \"b\": 3}}")]
    public void A_key_twice_in_one_object_is_invalid(string metadata)
    {
        Assert.Contains("appears twice", Parse(WithRaw("event.metadata", metadata)).Error);
    }

    [Fact]
    public void A_duplicate_entity_id_is_invalid_rather_than_stored_under_the_second()
    {
        var json = EventParserTests.V2Event.Replace("\"parent_id\": null", $"\"parent_id\": null, \"id\": \"{Guid.NewGuid()}\"");
        Assert.Contains("'id' appears twice", Parse(json).Error);
    }

    [Fact]
    public void The_same_key_in_different_objects_and_wide_objects_without_repeats_are_valid()
    {
        Assert.True(Parse(WithRaw("event.metadata", "{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}]}")).IsValid);
        var wide = "{" + string.Join(",", Enumerable.Range(0, 500).Select(i => $"\"k{i}\": {i}")) + "}";
        Assert.True(Parse(WithRaw("event.metadata", wide)).IsValid);
        var wideRepeat = wide.TrimEnd('}') + ", \"k250\": 0}";
        Assert.Contains("'k250' appears twice", Parse(WithRaw("event.metadata", wideRepeat)).Error);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_valid_and_deeper_is_invalid()
    {
        // The event object is level 1, "event" level 2 and its metadata level 3.
        string Nested(int levels) => new string('[', levels) + new string(']', levels);
        var deepest = Parse(WithRaw("event.metadata", $"{{\"n\": {Nested(StorableJson.MaxDepth - 3)}}}"));
        Assert.True(deepest.IsValid, deepest.Error);
        Assert.Contains("deeper than 64", Parse(WithRaw("event.metadata", $"{{\"n\": {Nested(StorableJson.MaxDepth - 2)}}}")).Error);
    }
}
