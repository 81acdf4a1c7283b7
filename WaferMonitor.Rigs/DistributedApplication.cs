using System.Text.Json;

namespace WaferMonitor.Rigs;

/// <summary>Declares resources in Aspire's vocabulary (add, reference, wait for) before the application runs.</summary>
public sealed class DistributedApplicationBuilder(string stateDirectory)
{
    private readonly List<Resource> resources = [];
    private readonly PortAllocator ports = new();

    public string StateDirectory { get; } = Path.GetFullPath(stateDirectory);

    /// <summary>
    /// One generated key every service of this application accepts with every scope, that each client of the application
    /// sends (its HttpClients, a Sidecar to its LocalApi): a rig tests behaviour, not which caller holds which key.
    /// </summary>
    public string AccessKey { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public IEnumerable<ProjectResource> Projects => resources.OfType<ProjectResource>();

    /// <summary>An external server when <paramref name="connectionString"/> is given, else an embedded one.</summary>
    /// <param name="settings">Server settings (<c>name=value</c>) after the product's own, which they override.</param>
    public PostgresResource AddPostgres(string name, string? connectionString = null, bool throwaway = false, IReadOnlyList<string>? settings = null) =>
        Add(new PostgresResource(name, connectionString, throwaway, settings ?? []));

    public DatabaseResource AddDatabase(PostgresResource server, string name) => Add(server.AddDatabase(name));

    /// <summary>An external S3 endpoint when <paramref name="externalEndpoint"/> is given, else a local s3rver.</summary>
    public S3Resource AddS3(string name, string bucket, string? externalEndpoint = null) => Add(new S3Resource(name, bucket, externalEndpoint));

    public ProjectResource AddProject(string name, string serviceProject) => Add(new ProjectResource(name, serviceProject, ports.Next()));

    /// <summary>
    /// Prometheus scraping <paramref name="targets"/> and evaluating <paramref name="ruleFiles"/> (paths or globs). Targets
    /// may belong to another application (a test's fab); those of this one are waited for, so they are up once it is ready.
    /// </summary>
    public PrometheusResource AddPrometheus(string name, IEnumerable<ProjectResource> targets, IEnumerable<string> ruleFiles, TimeSpan interval)
    {
        var prometheus = AddPrometheus(name, targets.Select(t => (t.Name, t.Port)), ruleFiles, interval);
        prometheus.WaitsFor.AddRange(resources.OfType<ProjectResource>().Where(targets.Contains));
        return prometheus;
    }

    /// <summary>Prometheus scraping services run elsewhere (e.g. by an Aspire AppHost), named and at their ports.</summary>
    public PrometheusResource AddPrometheus(string name, IEnumerable<(string Name, int Port)> targets, IEnumerable<string> ruleFiles, TimeSpan interval) =>
        Add(new PrometheusResource(name, [.. targets], [.. ruleFiles], interval, ports.Next()));

    public AlertmanagerResource AddAlertmanager(string name) => Add(new AlertmanagerResource(name, ports.Next()));

    public DistributedApplication Build(TextWriter console, bool quiet = false)
    {
        foreach (var project in Projects)
            project.WithDefaultEnvironment("Security__Credentials__rig__Key", AccessKey)
                .WithDefaultEnvironment("Security__Credentials__rig__Scopes", "ingest,read,admin")
                .WithDefaultEnvironment("Sidecar__LocalApiKey", AccessKey);
        return new([.. resources], new HostContext(StateDirectory, new ConsoleSink(console, quiet), ports), AccessKey);
    }

    private T Add<T>(T resource) where T : Resource
    {
        if (resources.Any(r => r.Name == resource.Name))
            throw new InvalidOperationException($"a resource named {resource.Name} already exists");
        resources.Add(resource);
        return resource;
    }
}

/// <summary>
/// Runs declared resources: each starts once everything it waits for is ready; when all are ready the endpoint table is
/// printed and <c>endpoints.json</c> written; stopping goes in reverse dependency order.
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly IReadOnlyList<Resource> resources;
    private readonly HostContext context;
    private readonly List<Resource> started = [];
    private FileStream? stateLock;
    private bool stopped;

    internal DistributedApplication(IReadOnlyList<Resource> resources, HostContext context, string accessKey)
    {
        this.resources = resources;
        this.context = context;
        AccessKey = accessKey;
    }

    /// <summary>The key every service of this application accepts (see <see cref="DistributedApplicationBuilder.AccessKey"/>).</summary>
    public string AccessKey { get; }

    public IReadOnlyList<Resource> Resources => resources;
    public string StateDirectory => context.StateDirectory;
    public string EndpointsFile => Path.Combine(context.StateDirectory, "endpoints.json");

    public T Get<T>(string name) where T : Resource =>
        resources.OfType<T>().FirstOrDefault(r => r.Name == name) ?? throw new KeyNotFoundException($"no resource named {name}");

    public Uri GetEndpoint(string name) =>
        resources.FirstOrDefault(r => r.Name == name) is ExecutableResource tool ? tool.Url : Get<ProjectResource>(name).Url;

    /// <summary>A client of the resource that sends the application's <see cref="AccessKey"/>.</summary>
    public HttpClient CreateHttpClient(string name)
    {
        var client = new HttpClient { BaseAddress = GetEndpoint(name), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AccessKey);
        return client;
    }

    public async Task StartAsync(TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.StateDirectory);
        LockStateDirectory();
        File.Delete(EndpointsFile);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(readyTimeout);
        // Every resource's readiness exists before any starts, whatever order they were declared in.
        var ready = resources.ToDictionary(r => r, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var starting = resources.Select(r => StartWhenReadyAsync(r, ready, timeout.Token)).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var waiting = resources.Where(r => r.State != ResourceState.Running).Select(r => $"{r.Name} ({r.State})");
            throw new TimeoutException($"not ready within {readyTimeout.TotalSeconds:0}s: {string.Join(", ", waiting)}");
        }
        await WriteEndpointsAsync(cancellationToken);
        context.Console.Always(Table());
    }

    private async Task StartWhenReadyAsync(
        Resource resource, Dictionary<Resource, TaskCompletionSource> ready, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(resource.WaitsFor.Select(dependency => ready[dependency].Task)).WaitAsync(cancellationToken);
            resource.State = ResourceState.Starting;
            lock (started)
                started.Add(resource);
            await resource.StartAsync(context, cancellationToken);
            await resource.WaitReadyAsync(cancellationToken);
            resource.State = ResourceState.Running;
            context.Console.Info($"{resource.Name}: ready");
            ready[resource].TrySetResult();
        }
        catch (Exception ex)
        {
            ready[resource].TrySetException(ex);
            throw;
        }
    }

    /// <summary>
    /// One AppHost per state directory: a second one would take the first one's database for a stale server and stop it.
    /// </summary>
    private void LockStateDirectory()
    {
        var path = Path.Combine(context.StateDirectory, "apphost.lock");
        try
        {
            stateLock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InvalidOperationException(
                $"{context.StateDirectory} is in use by another AppHost; stop it or pass a different --state-dir");
        }
    }

    public async Task StopAsync()
    {
        if (stopped)
            return;
        stopped = true;
        List<Resource> toStop;
        lock (started)
            toStop = [.. started];
        // Dependents first, then what they depend on; resources with no dependency relation stop together.
        while (toStop.Count > 0)
        {
            var wave = toStop.Where(r => !toStop.Any(other => other.WaitsFor.Contains(r))).ToList();
            foreach (var resource in wave)
                resource.State = ResourceState.Stopping;
            await Task.WhenAll(wave.Select(r => r.StopAsync()));
            foreach (var resource in wave)
            {
                resource.State = ResourceState.Stopped;
                toStop.Remove(resource);
            }
        }
        if (stateLock is not null)
            await stateLock.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task WriteEndpointsAsync(CancellationToken cancellationToken)
    {
        var document = new Dictionary<string, object>
        {
            ["resources"] = resources.ToDictionary(r => r.Name, r => r.Describe() switch
            {
                { Url: { } url } when r is ProjectResource => new Dictionary<string, string> { ["url"] = url, ["token"] = AccessKey },
                { Url: { } url } => new Dictionary<string, string> { ["url"] = url },
                var entry => new Dictionary<string, string> { ["connectionString"] = entry.ConnectionString ?? "" },
            }),
        };
        var temporary = EndpointsFile + ".tmp";
        await File.WriteAllTextAsync(temporary, "", cancellationToken);
        // It holds the access key: readable by its owner only.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(document, IndentedJson), cancellationToken);
        File.Move(temporary, EndpointsFile, overwrite: true);
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public string Table()
    {
        var rows = resources.Select(r => (r.Name, State: r.State.ToString(), Where: r.Describe().Url ?? r.Describe().ConnectionString ?? "")).ToList();
        var nameWidth = Math.Max(8, rows.Max(r => r.Name.Length));
        var lines = new List<string> { "", $"{"RESOURCE".PadRight(nameWidth)}  {"STATE",-9}  ENDPOINT" };
        lines.AddRange(rows.Select(r => $"{r.Name.PadRight(nameWidth)}  {r.State,-9}  {r.Where}"));
        lines.Add($"endpoints: {EndpointsFile}");
        return string.Join(Environment.NewLine, lines);
    }
}
