using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Infrastructure;

/// <summary>
/// The whole local fab (sites fab1 and fab2) as the AppHost declares it, started through Aspire's
/// <see cref="DistributedApplicationTestingBuilder"/> on a throwaway PostgreSQL, once for the integration tests that share
/// it. DCP and every process are stopped at the end.
/// </summary>
public sealed class FabFixture : IAsyncLifetime
{
    public static readonly string[] Services =
        ["central", "localapi-fab1", "sidecar-fab1", "archiver-fab1", "localapi-fab2", "sidecar-fab2", "archiver-fab2"];

    private readonly string stateDirectory = Path.Combine(Path.GetTempPath(), "wm-test-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string> connectionStrings = [];
    private readonly Dictionary<string, (string? Token, string? IngestKey)> credentials = [];

    public DistributedApplication App { get; private set; } = null!;

    public string StateDirectory => stateDirectory;

    public string EndpointsFile => Path.Combine(stateDirectory, "endpoints.json");

    public string PostgresConnectionString => connectionStrings["postgres"];

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.WaferMonitor_AppHost>(
            ["--state-dir", stateDirectory, "--throwaway-database"]);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
            builder.CreateResourceBuilder(project).WithEnvironment("Forwarder__Linger", "10ms");
        App = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await App.StartAsync(timeout.Token);
        foreach (var service in Services)
            await App.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
        foreach (var name in new[] { "postgres", "monitor-fab1", "monitor-fab2" })
            connectionStrings[name] = await App.GetConnectionStringAsync(name, timeout.Token) ?? throw new InvalidOperationException($"{name} has no connection string");
        await Events.Eventually(() => Task.FromResult(File.Exists(EndpointsFile)), "endpoints.json written");
        using var endpoints = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(EndpointsFile));
        foreach (var resource in endpoints.RootElement.GetProperty("resources").EnumerateObject())
            credentials[resource.Name] = (Property(resource.Value, "token"), Property(resource.Value, "ingestKey"));
    }

    private static string? Property(System.Text.Json.JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>The operator token (read, admin) the fab wrote beside the service's URL in endpoints.json.</summary>
    public string Token(string resource) => credentials[resource].Token ?? throw new InvalidOperationException($"{resource} has no token");

    /// <summary>The ingest key of a LocalApi (its Sidecar's), from endpoints.json.</summary>
    public string IngestKey(string localApi) => credentials[localApi].IngestKey ?? throw new InvalidOperationException($"{localApi} has no ingest key");

    /// <summary>
    /// A client of the service that sends the right credential, as endpoints.json gives them: the LocalApi's ingest key
    /// with writes of events and heartbeats, the operator token with everything else.
    /// </summary>
    public HttpClient Client(string resource)
    {
        var (token, ingestKey) = credentials[resource];
        var client = new HttpClient(new CredentialHandler(token, ingestKey) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = Endpoint(resource),
            Timeout = TimeSpan.FromSeconds(30),
        };
        return client;
    }

    /// <summary>Without any credential, as a stranger on the network would call.</summary>
    public HttpClient AnonymousClient(string resource) => new() { BaseAddress = Endpoint(resource), Timeout = TimeSpan.FromSeconds(30) };

    private sealed class CredentialHandler(string? token, string? ingestKey) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri?.AbsolutePath ?? "";
            var isIngest = request.Method == HttpMethod.Post && (path.StartsWith("/v1/ingest/", StringComparison.Ordinal) || path == "/v1/sidecars/heartbeat");
            if ((isIngest && ingestKey is not null ? ingestKey : token) is { } credential && request.Headers.Authorization is null)
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
            return base.SendAsync(request, cancellationToken);
        }
    }

    public Uri Endpoint(string resource) => App.GetEndpoint(resource, "http");

    public string ConnectionString(string database) => connectionStrings[database];

    /// <summary>The process id of a running service (Aspire launches the built service itself, not <c>dotnet run</c>).</summary>
    public int ProcessId(string resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource, out var state)
            && state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
            ? Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{resource} has no process");

    public async Task DisposeAsync()
    {
        await App.StopAsync();
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
