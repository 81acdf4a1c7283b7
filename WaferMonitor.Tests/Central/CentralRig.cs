using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Central;

/// <summary>
/// A private topology for CentralApi tests that stop sites or change central's settings: a LocalApi per site (each with
/// its own database on the fab's PostgreSQL server) and one CentralApi over them, declared as an AppHost would.
/// </summary>
public sealed class CentralRig : IAsyncDisposable
{
    private readonly string stateDirectory;

    private CentralRig(string stateDirectory, DistributedApplication app, IReadOnlyList<string> sites)
    {
        this.stateDirectory = stateDirectory;
        App = app;
        Sites = sites;
    }

    public DistributedApplication App { get; }
    public IReadOnlyList<string> Sites { get; }

    public static async Task<CentralRig> StartAsync(FabFixture fab, int siteCount, IReadOnlyDictionary<string, string>? centralEnvironment = null)
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..5];
        var sites = Enumerable.Range(1, siteCount).Select(i => $"{prefix}s{i}").ToList();
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-" + prefix);
        var builder = new DistributedApplicationBuilder(stateDirectory);
        var postgres = builder.AddPostgres("postgres", fab.PostgresConnectionString);
        var localApis = new List<ProjectResource>();
        foreach (var site in sites)
        {
            var database = builder.AddDatabase(postgres, $"monitor-{site}");
            localApis.Add(builder.AddProject($"localapi-{site}", "LocalApi")
                .WithReference(database, connectionName: "monitor")
                .WithEnvironment("LocalApi__SiteId", site));
        }
        // Declared after what it waits for: the orchestrator looks dependencies up as it starts each resource.
        var central = builder.AddProject("central", "CentralApi");
        foreach (var (site, localApi) in sites.Zip(localApis))
            central.WithReference(localApi).WithEnvironment($"Sites__{site}", $"http://localapi-{site}")
                .WithEnvironment($"SiteTokens__{site}", builder.AccessKey);
        foreach (var (key, value) in centralEnvironment ?? new Dictionary<string, string>())
            central.WithEnvironment(key, value);
        var app = builder.Build(TextWriter.Null, quiet: true);
        try
        {
            await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        }
        catch
        {
            await app.DisposeAsync();
            FabFixture.TryDelete(stateDirectory);
            throw;
        }
        return new CentralRig(stateDirectory, app, sites);
    }

    public HttpClient Client(string resource) => App.CreateHttpClient(resource);

    public ProjectResource LocalApi(string site) => App.Get<ProjectResource>($"localapi-{site}");

    /// <summary>Stores one started job on <paramref name="site"/> (directly at its LocalApi) and returns its id.</summary>
    public async Task<Guid> AddJobAsync(string site, string businessKey)
    {
        var jobId = Guid.NewGuid();
        using var client = Client($"localapi-{site}");
        var result = await Events.PostBatchAsync(client, [Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow.AddSeconds(-1), site: site, businessKey: businessKey)]);
        Assert.Equal(1, result.Accepted);
        return jobId;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        FabFixture.TryDelete(stateDirectory);
    }
}

/// <summary>Reading central's answers.</summary>
public static class CentralResponses
{
    /// <summary>GET with <c>Cache-Control: no-cache</c> unless <paramref name="cached"/>; returns status, body and X-Cache.</summary>
    public static async Task<(int Status, JsonElement Body, string? Cache)> GetAsync(HttpClient client, string url, bool cached = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!cached)
            request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var cache = response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;
        return ((int)response.StatusCode, body, cache);
    }

    public static List<Guid> JobIds(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("job_id").GetGuid())];
}
