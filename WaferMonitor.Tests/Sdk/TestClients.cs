using System.Text.Json;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Sdk;

internal static class TestClients
{
    public static readonly AppRef App = new(Guid.Parse("0b9a3c55-7a0e-4d4f-9d6f-5d1f2f0c1a01"), "wafer-process", "2.1.0");

    /// <summary>Options with short intervals so a test waits milliseconds, not seconds, for delivery.</summary>
    public static MonitorOptions Options(Uri sidecar) => new()
    {
        SidecarUrl = sidecar,
        SiteId = "fab1",
        App = App,
        FlushInterval = TimeSpan.FromMilliseconds(20),
        RetryInitialDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        RequestTimeout = TimeSpan.FromSeconds(10),
        ShutdownTimeout = TimeSpan.FromSeconds(10),
        MemorySampleInterval = TimeSpan.FromMilliseconds(10),
    };

    public static MonitorClient Create(Uri sidecar, Action<MonitorOptions>? adjust = null, ProcessProbe? probe = null)
    {
        var options = Options(sidecar);
        adjust?.Invoke(options);
        return new MonitorClient(options, handler: null, timeProvider: null, logger: null, probe ?? new ProcessProbe());
    }
}

/// <summary>Read-side helpers over recorded wire events.</summary>
internal static class WireEvents
{
    public static string Kind(this JsonElement e) => e.GetProperty("event").GetProperty("kind").GetString()!;

    public static string? Status(this JsonElement e) => e.GetProperty("event").GetProperty("status").GetString();

    public static string EntityId(this JsonElement e) => e.GetProperty("entity").GetProperty("id").GetString()!;

    public static string? SubKey(this JsonElement e) => e.GetProperty("entity").GetProperty("sub_key").GetString();

    public static JsonElement Metadata(this JsonElement e) => e.GetProperty("event").GetProperty("metadata");

    public static JsonElement Metrics(this JsonElement e) => e.GetProperty("event").GetProperty("metrics");

    public static IReadOnlyList<JsonElement> Of(this IEnumerable<JsonElement> events, Guid entityId) =>
        events.Where(e => e.EntityId() == entityId.ToString()).ToList();

    public static JsonElement Single(this IEnumerable<JsonElement> events, Guid entityId, string kind) =>
        Assert.Single(events.Of(entityId), e => e.Kind() == kind);
}
