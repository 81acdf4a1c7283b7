using System.Net.Http.Json;
using WaferMonitor.AppHost;
using WaferMonitor.AppHost.Hosting;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Infrastructure;

/// <summary>
/// The whole local fab (sites fab1 and fab2) on a throwaway PostgreSQL, started once for the integration tests that
/// share it — our counterpart of Aspire's DistributedApplicationTestingBuilder. Every process is stopped at the end.
/// </summary>
public sealed class FabFixture : IAsyncLifetime
{
    private readonly string stateDirectory = Path.Combine(Path.GetTempPath(), "wm-test-" + Guid.NewGuid().ToString("N")[..8]);

    public DistributedApplication App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var options = new FabOptions
        {
            Sites = ["fab1", "fab2"],
            StateDirectory = stateDirectory,
            ThrowawayDatabase = true,
            ServiceEnvironment = new Dictionary<string, string> { ["Forwarder__Linger"] = "10ms" },
        };
        App = FabTopology.Declare(options).Build(TextWriter.Null, quiet: true);
        await App.StartAsync(TimeSpan.FromMinutes(3), CancellationToken.None);
    }

    public HttpClient Client(string resource) => App.CreateHttpClient(resource);

    public string ConnectionString(string database) => App.Get<DatabaseResource>(database).ConnectionString;

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        TryDelete(stateDirectory);
    }

    internal static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FabCollection : ICollectionFixture<FabFixture>
{
    public const string Name = "fab";
}

/// <summary>Builders of v2-format events for tests.</summary>
public static class Events
{
    public static readonly AppRef App = new(Guid.Parse("11111111-1111-4111-8111-111111111111"), "wafer-process", "2.1.0");

    public static WireEvent Job(Guid jobId, string kind, DateTimeOffset at, string site = "fab1", string? status = null,
        string? businessKey = "lot-1", Dictionary<string, double>? metrics = null, object? metadata = null, string? key = null,
        AppRef? app = null) =>
        new(key ?? Guid.NewGuid().ToString(), site, app ?? App,
            new EntityRef(EntityTypes.Job, jobId, null, businessKey, null),
            new EventBody(kind, at, status ?? (kind == EventKinds.Started ? EntityStatuses.Running : null), metrics, ToElement(metadata)));

    public static WireEvent Subjob(Guid subjobId, Guid jobId, string kind, DateTimeOffset at, string site = "fab1",
        string? status = null, string subKey = "wafer-01", Dictionary<string, double>? metrics = null) =>
        new(Guid.NewGuid().ToString(), site, App,
            new EntityRef(EntityTypes.Subjob, subjobId, jobId, null, subKey),
            new EventBody(kind, at, status, metrics, null));

    public static System.Text.Json.JsonElement? ToElement(object? value) =>
        value is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(value, WireJson.Options);

    public static async Task<BatchIngestResult> PostBatchAsync(HttpClient client, IEnumerable<WireEvent> events)
    {
        using var response = await client.PostAsJsonAsync("/v1/ingest/events:batch", events, WireJson.Options);
        if (!response.IsSuccessStatusCode)
            Assert.Fail($"{(int)response.StatusCode} from {client.BaseAddress}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options))!;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes (then fails with <paramref name="what"/>).</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"timed out waiting for {what}");
    }
}
