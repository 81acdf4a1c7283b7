namespace WaferMonitor.Rigs;

public enum ResourceState { Pending, Starting, Running, Restarting, Failed, Stopping, Stopped }

/// <summary>Something the AppHost runs or connects to, named as in <c>endpoints.json</c>.</summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;
    public ResourceState State { get; internal set; } = ResourceState.Pending;
    public List<Resource> WaitsFor { get; } = [];

    /// <summary>
    /// What a dependent receives when it references this resource: environment variable → value, evaluated when the
    /// dependent starts (a port or connection string is known only once this resource runs).
    /// </summary>
    internal abstract IEnumerable<KeyValuePair<string, Func<string>>> ReferenceEnvironment(string? connectionName);

    internal abstract Task StartAsync(HostContext context, CancellationToken cancellationToken);
    internal abstract Task WaitReadyAsync(CancellationToken cancellationToken);
    internal abstract Task StopAsync();
    internal abstract EndpointEntry Describe();
}

public sealed record EndpointEntry(string? Url = null, string? ConnectionString = null);

/// <summary>Shared facilities for resources while the application runs.</summary>
internal sealed class HostContext(string stateDirectory, ConsoleSink console, PortAllocator ports)
{
    public string StateDirectory { get; } = stateDirectory;
    public ConsoleSink Console { get; } = console;
    public PortAllocator Ports { get; } = ports;
    public string LogDirectory => Path.Combine(StateDirectory, "logs");
}

internal static class HttpReadiness
{
    /// <summary>Polls <paramref name="url"/> until it answers 200 OK; a refused or slow connection means "not yet".</summary>
    public static async Task WaitForOkAsync(Uri url, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var response = await client.GetAsync(url, cancellationToken);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }
}
