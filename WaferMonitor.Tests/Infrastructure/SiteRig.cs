using WaferMonitor.Rigs;

namespace WaferMonitor.Tests.Infrastructure;

/// <summary>
/// A private site for fault tests — its own Sidecar and LocalApi (and database on the fab's PostgreSQL server) — so a
/// test can stop, kill and reconfigure them without disturbing the shared fab.
/// </summary>
public sealed class SiteRig : IAsyncDisposable
{
    private readonly string stateDirectory;

    private SiteRig(string stateDirectory, DistributedApplication app, string site)
    {
        this.stateDirectory = stateDirectory;
        App = app;
        Site = site;
    }

    public DistributedApplication App { get; }
    public string Site { get; }
    public ProjectResource Sidecar => App.Get<ProjectResource>("sidecar");
    public ProjectResource LocalApi => App.Get<ProjectResource>("localapi");
    public string ConnectionString => App.Get<DatabaseResource>($"monitor-{Site}").ConnectionString;
    public string SpoolDirectory => Path.Combine(stateDirectory, "spool");

    public static async Task<SiteRig> StartAsync(
        FabFixture fab,
        IReadOnlyDictionary<string, string>? sidecarEnvironment = null,
        IReadOnlyDictionary<string, string>? localApiEnvironment = null,
        bool sidecarChecksSite = false)
    {
        var site = "rig" + Guid.NewGuid().ToString("N")[..6];
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-" + site);
        var builder = new DistributedApplicationBuilder(stateDirectory);
        var postgres = builder.AddPostgres("postgres", fab.PostgresConnectionString);
        var database = builder.AddDatabase(postgres, $"monitor-{site}");
        var localApi = builder.AddProject("localapi", "LocalApi")
            .WithReference(database, connectionName: "monitor")
            .WithEnvironment("LocalApi__SiteId", site);
        var sidecar = builder.AddProject("sidecar", "Sidecar")
            .WithReference(localApi)
            .WithEnvironment("Sidecar__LocalApiUrl", "http://localapi")
            .WithEnvironment("Spool__Directory", Path.Combine(stateDirectory, "spool"))
            .WithEnvironment("Forwarder__Linger", "10ms")
            .WithEnvironment("Forwarder__MaxBackoff", "500ms")
            .WithEnvironment("Resilience__Http__MaxRetryAttempts", "0");
        if (sidecarChecksSite)
            sidecar.WithEnvironment("Sidecar__SiteId", site);
        foreach (var (key, value) in sidecarEnvironment ?? new Dictionary<string, string>())
            sidecar.WithEnvironment(key, value);
        foreach (var (key, value) in localApiEnvironment ?? new Dictionary<string, string>())
            localApi.WithEnvironment(key, value);
        var app = builder.Build(TextWriter.Null, quiet: true);
        await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        return new SiteRig(stateDirectory, app, site);
    }

    public HttpClient Client(string resource) => App.CreateHttpClient(resource);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        FabFixture.TryDelete(stateDirectory);
    }
}
