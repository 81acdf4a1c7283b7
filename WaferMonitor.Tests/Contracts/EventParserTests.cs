using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Contracts;

public sealed class EventParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public const string V2Event = """
        {"idempotency_key": "7b1e0c3a-5d1f-4d0e-9a57-0f5b7e4c2d11", "site_id": "fab1",
         "app": {"app_id": "0b8f6c1e-3f0a-4b52-8f2d-1c9e7a6b5d40", "name": "wafer-process", "version": "2.1.0"},
         "entity": {"type": "job", "id": "5a3c2e1f-7b9d-4c6e-8f0a-2b4d6e8f0a1c", "parent_id": null,
                    "business_key": "batch-12345", "sub_key": null},
         "event": {"kind": "finished", "at": "2026-11-22T07:59:00.123+00:00", "status": "succeeded",
                   "metrics": {"cpu_user_s": 1.2, "cpu_system_s": 0.1, "mem_max_mb": 512.0, "duration_s": 3.4, "custom": 7},
                   "metadata": {"any": "json"}}}
        """;

    private static ParsedEvent Parse(string json, string? site = null) =>
        EventParser.Parse(JsonDocument.Parse(json).RootElement, new IngestLimits(), site, Now);

    private static string With(string path, string? replacement)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(V2Event)!;
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(node, (n, p) => n[p]!);
        if (replacement is null)
            parent.AsObject().Remove(parts[^1]);
        else
            parent[parts[^1]] = System.Text.Json.Nodes.JsonNode.Parse(replacement);
        return node.ToJsonString();
    }

    [Fact]
    public void The_exact_v2_json_is_accepted_with_unknown_metrics_kept()
    {
        var parsed = Parse(V2Event, "fab1");
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal("batch-12345", parsed.Event!.Entity.BusinessKey);
        Assert.Equal(7, parsed.Event.Event.Metrics!["custom"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 7, 59, 0, 123, TimeSpan.Zero), parsed.Event.Event.At);
    }

    [Fact]
    public void A_timestamp_without_offset_is_utc()
    {
        var parsed = Parse(With("event.at", "\"2026-11-22T07:00:00\""));
        Assert.Equal(TimeSpan.Zero, parsed.Event!.Event.At.Offset);
        Assert.Equal(7, parsed.Event.Event.At.UtcDateTime.Hour);
    }

    [Fact]
    public void A_timestamp_with_an_offset_is_the_same_instant_in_utc()
    {
        var parsed = Parse(With("event.at", "\"2026-11-22T09:30:00.5+02:30\""));
        Assert.Equal(TimeSpan.Zero, parsed.Event!.Event.At.Offset);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 7, 0, 0, 500, TimeSpan.Zero), parsed.Event.Event.At);
    }

    [Theory]
    [InlineData("idempotency_key", null, "idempotency_key is required")]
    [InlineData("idempotency_key", "\"\"", "idempotency_key must not be empty")]
    [InlineData("app.app_id", "\"not-a-uuid\"", "app.app_id must be a UUID")]
    [InlineData("entity.id", "42", "entity.id must be a UUID")]
    [InlineData("entity.type", "\"lot\"", "entity.type")]
    [InlineData("event.kind", "\"exploded\"", "event.kind")]
    [InlineData("event.status", "\"done\"", "event.status")]
    [InlineData("event.at", "\"yesterday\"", "event.at")]
    [InlineData("event.metrics", "{\"cpu_user_s\": \"fast\"}", "event.metrics.cpu_user_s")]
    [InlineData("event.metrics", "{\"cpu_user_s\": 1e999}", "event.metrics.cpu_user_s")]
    [InlineData("event.metadata", "[1,2]", "event.metadata")]
    [InlineData("site_id", null, "site_id is required")]
    [InlineData("app", null, "app is required")]
    public void Each_malformed_field_is_named(string path, string? replacement, string expected)
    {
        var parsed = Parse(With(path, replacement));
        Assert.False(parsed.IsValid);
        Assert.Equal(RejectionCodes.Invalid, parsed.Code);
        Assert.Contains(expected, parsed.Error);
    }

    [Fact]
    public void A_subjob_needs_its_parent()
    {
        var parsed = Parse(With("entity.type", "\"subjob\""));
        Assert.Contains("entity.parent_id", parsed.Error);
    }

    [Fact]
    public void Oversize_metadata_is_refused()
    {
        var big = "{\"blob\": \"" + new string('x', 70 * 1024) + "\"}";
        Assert.Contains("event.metadata is", Parse(With("event.metadata", big)).Error);
    }

    [Theory]
    [InlineData("event.metadata", """{"note": "a\u0000b"}""", false)]
    [InlineData("event.metadata", """{"a\u0000": 1}""", false)]
    [InlineData("entity.business_key", "\"\\u0000\"", false)]
    [InlineData("event.metadata", """{"note": "a\\u0000b"}""", true)]
    [InlineData("event.metadata", """{"note": "\\\\\u0000"}""", false)]
    [InlineData("event.metadata", """{"note": "a\u0001b \\"}""", true)]
    public void A_nul_character_in_any_string_is_invalid_and_an_escaped_backslash_before_u0000_is_not_one(
        string path, string replacement, bool valid)
    {
        var parsed = Parse(With(path, replacement));
        Assert.Equal(valid, parsed.IsValid);
        if (!valid)
            Assert.Contains("u0000", parsed.Error);
    }

    [Fact]
    public void Another_site_is_wrong_site_and_the_far_future_is_future_skew()
    {
        Assert.Equal(RejectionCodes.WrongSite, Parse(V2Event, "fab2").Code);
        Assert.Equal(RejectionCodes.FutureSkew, Parse(With("event.at", "\"2026-11-22T09:00:00Z\"")).Code);
        Assert.True(Parse(With("event.at", "\"2016-11-22T09:00:00Z\"")).IsValid);
    }
}
