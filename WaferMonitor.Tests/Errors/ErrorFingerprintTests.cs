using System.Text.Json;
using WaferMonitor.LocalApi.Errors;

namespace WaferMonitor.Tests.Errors;

public sealed class ErrorFingerprintTests
{
    private static JsonElement Meta(object value) => JsonSerializer.SerializeToElement(value);

    private static string Of(string app, object metadata) => ErrorFingerprint.Compute(app, Meta(metadata)).Fingerprint;

    [Fact]
    public void Messages_that_differ_only_in_ids_numbers_paths_quotes_and_times_land_in_one_group()
    {
        var a = Of("etch", new { error_type = "ChamberFault", error = "chamber 3 pressure 12.5 mTorr at 2026-12-01T10:00:00Z for lot 'LOT-42' job 0b7e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b, log /var/log/etch/run-17.log, handle 0x7ffe12" });
        var b = Of("etch", new { error_type = "ChamberFault", error = "chamber 7 pressure 9 mTorr at 2026-12-02 23:59:01.123+01:00 for lot 'LOT-9' job 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a, log /data/logs/run-3.log, handle 0x1a" });
        Assert.Equal(a, b);
        Assert.Equal("chamber <n> pressure <n> mTorr at <ts> for lot <str> job <uuid>, log <path>, handle <hex>",
            ErrorFingerprint.Normalise("chamber 3 pressure 12.5 mTorr at 2026-12-01T10:00:00Z for lot 'LOT-42' job 0b7e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b, log /var/log/etch/run-17.log, handle 0x7ffe12"));
    }

    [Theory]
    [InlineData("wafer W07 rejected: particle count 123 > 100", "wafer W<n> rejected: particle count <n> > <n>")]
    [InlineData("recipe C:\\recipes\\etch\\r5.rcp not found", "recipe <path> not found")]
    [InlineData("checksum deadbeef12 mismatch", "checksum <hex> mismatch")]
    [InlineData("facade defaced", "facade defaced")]
    [InlineData("timeout   after\t30s", "timeout after <n>s")]
    [InlineData("value \"abc\" is invalid", "value <str> is invalid")]
    public void Normalise_replaces_variable_parts_with_placeholders(string message, string expected) =>
        Assert.Equal(expected, ErrorFingerprint.Normalise(message));

    [Fact]
    public void Different_error_types_or_apps_or_messages_land_in_different_groups()
    {
        var baseline = Of("etch", new { error_type = "ChamberFault", error = "pressure low" });
        Assert.NotEqual(baseline, Of("etch", new { error_type = "VacuumLost", error = "pressure low" }));
        Assert.NotEqual(baseline, Of("litho", new { error_type = "ChamberFault", error = "pressure low" }));
        Assert.NotEqual(baseline, Of("etch", new { error_type = "ChamberFault", error = "pressure high" }));
    }

    [Fact]
    public void An_explicit_fingerprint_wins_over_the_message()
    {
        var a = Of("etch", new { error_type = "ChamberFault", error = "pressure low", fingerprint = new[] { "chamber", "vacuum" } });
        var b = Of("etch", new { error_type = "OtherFault", error = "something else entirely", fingerprint = new[] { "chamber", "vacuum" } });
        Assert.Equal(a, b);
        Assert.NotEqual(a, Of("etch", new { error_type = "ChamberFault", error = "pressure low" }));
        Assert.NotEqual(a, Of("litho", new { error_type = "ChamberFault", error = "pressure low", fingerprint = new[] { "chamber", "vacuum" } }));
        Assert.Equal(Of("etch", new { fingerprint = "chamber-vacuum" }), Of("etch", new { error = "x", fingerprint = "chamber-vacuum" }));
    }

    [Fact]
    public void The_title_is_the_error_type_and_normalised_message()
    {
        var signature = ErrorFingerprint.Compute("etch", Meta(new { error_type = "ChamberFault", error = "chamber 3 pressure low" }));
        Assert.Equal("ChamberFault: chamber <n> pressure low", signature.Title);
        Assert.Equal("chamber 3 pressure low", signature.Message);
        Assert.Equal(32, signature.Fingerprint.Length);
        Assert.Equal("failed without an error message", ErrorFingerprint.Compute("etch", null).Title);
    }
}
