using System.Reflection;

namespace WaferMonitor.Rigs;

/// <summary>A WaferMonitor service run from its built assembly on a fixed loopback port, configured the Aspire way.</summary>
public sealed class ProjectResource : Resource
{
    private readonly string assemblyPath;
    private readonly Dictionary<string, Func<string>> environment = new(StringComparer.Ordinal);
    private ManagedProcess? process;
    private HostContext? context;

    internal ProjectResource(string name, string serviceProject, int port) : base(name)
    {
        assemblyPath = ServiceAssemblyPath(serviceProject);
        Port = port;
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}");
    public int Restarts => process?.Restarts ?? 0;
    public int? ProcessId => process?.ProcessId;

    public ProjectResource WithEnvironment(string key, string value)
    {
        environment[key] = () => value;
        return this;
    }

    /// <summary>Sets <paramref name="key"/> unless the environment already has it (a test's own setting wins).</summary>
    public ProjectResource WithDefaultEnvironment(string key, string value)
    {
        environment.TryAdd(key, () => value);
        return this;
    }

    /// <summary>Injects what <paramref name="resource"/> exposes (a connection string or a service endpoint) and waits for it.</summary>
    public ProjectResource WithReference(Resource resource, string? connectionName = null)
    {
        foreach (var (key, value) in resource.ReferenceEnvironment(connectionName))
            environment[key] = value;
        return WaitFor(resource);
    }

    public ProjectResource WaitFor(Resource resource)
    {
        if (!WaitsFor.Contains(resource))
            WaitsFor.Add(resource);
        return this;
    }

    internal override IEnumerable<KeyValuePair<string, Func<string>>> ReferenceEnvironment(string? connectionName)
    {
        yield return new($"services__{Name}__http__0", () => Url.ToString().TrimEnd('/'));
    }

    internal override Task StartAsync(HostContext context, CancellationToken cancellationToken)
    {
        this.context = context;
        if (!File.Exists(assemblyPath))
            throw new InvalidOperationException($"{Name}: {assemblyPath} does not exist; build the solution first (dotnet build WaferMonitor.sln)");
        var env = new Dictionary<string, string>(environment.Select(e => KeyValuePair.Create(e.Key, e.Value())), StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = Url.ToString().TrimEnd('/'),
            ["OTEL_SERVICE_NAME"] = Name,
            ["DOTNET_NOLOGO"] = "1",
        };
        var spec = new ProcessSpec(DotnetHost(), [assemblyPath], Path.GetDirectoryName(assemblyPath)!, env);
        process = new ManagedProcess(Name, spec, context, state => State = state, Posix.SigTerm);
        process.Start();
        return Task.CompletedTask;
    }

    internal override Task WaitReadyAsync(CancellationToken cancellationToken) =>
        HttpReadiness.WaitForOkAsync(new Uri(Url, "/health"), cancellationToken);

    internal override Task StopAsync() => process?.StopAsync(TimeSpan.FromSeconds(10)) ?? Task.CompletedTask;

    /// <summary>Stops the process and keeps it stopped (Aspire's "stop" resource command), until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopForNowAsync()
    {
        State = ResourceState.Stopping;
        await StopAsync();
        State = ResourceState.Stopped;
    }

    /// <summary>Starts a stopped resource again on the same URL, with its current environment, and waits until it is ready.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (context is null)
            throw new InvalidOperationException($"{Name} was never started");
        State = ResourceState.Starting;
        await StartAsync(context, cancellationToken);
        await WaitReadyAsync(cancellationToken);
        State = ResourceState.Running;
    }

    internal override EndpointEntry Describe() => new(Url: Url.ToString().TrimEnd('/'));

    public static string ServiceAssemblyPath(string serviceProject) =>
        typeof(ProjectResource).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == $"ServiceAssembly:{serviceProject}")?.Value
        ?? throw new InvalidOperationException($"no service project named {serviceProject}");

    /// <summary>The dotnet host running us (set by <c>dotnet run</c>/<c>dotnet test</c>), else the one on PATH.</summary>
    public static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
        ? host
        : "dotnet";
}
