using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace WaferMonitor.AppHost.Infrastructure;

public static class FabSupervision
{
    /// <summary>
    /// What the local fab adds to Aspire in run mode: one AppHost per state directory, a log file per resource, the
    /// endpoint table and <c>endpoints.json</c> once everything is ready, and restarting crashed services.
    /// </summary>
    public static void AddFabSupervision(this IDistributedApplicationBuilder builder, FabOptions fab)
    {
        if (!builder.ExecutionContext.IsRunMode)
            return;
        Directory.CreateDirectory(fab.StateDirectory);
        builder.Services.AddSingleton(fab);
        builder.Services.AddSingleton(StateDirectoryLock.Take(fab.StateDirectory));
        builder.Services.AddHostedService<FabSupervisor>();
    }
}

/// <summary>
/// One AppHost per state directory: a second one would take the first one's database for a stale server and stop it.
/// </summary>
public sealed class StateDirectoryLock(FileStream file) : IDisposable
{
    public static StateDirectoryLock Take(string stateDirectory)
    {
        try
        {
            return new StateDirectoryLock(new FileStream(Path.Combine(stateDirectory, "apphost.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            throw new DistributedApplicationException($"{stateDirectory} is in use by another AppHost; stop it or pass a different --state-dir");
        }
    }

    public void Dispose() => file.Dispose();
}

/// <summary>
/// DCP has no restart policy for executables (microsoft/dcp#32), so a resource that exits while it should be running is
/// started again here with exponential backoff (1 s doubling to 30 s, reset after a minute up) through Aspire's start
/// command: same arguments, same port, so the same URL.
/// </summary>
internal sealed partial class FabSupervisor(
    FabOptions fab,
    DistributedApplicationModel model,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    ResourceCommandService commands,
    IConfiguration configuration,
    FabCredentials credentials,
    IHostApplicationLifetime lifetime) : BackgroundService
{
    private const int TailLines = 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(60);
    private static readonly string[] ExitedStates = [KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart];

    private readonly ConcurrentDictionary<string, Queue<string>> tails = new();
    private readonly ConcurrentDictionary<string, (TimeSpan Backoff, DateTime StartedAt)> restarts = new();

    /// <summary>
    /// The fab's own services and tools: not a run-to-end step (an install, whose exit is its success), nor the
    /// dashboard, which Aspire runs itself.
    /// </summary>
    private IEnumerable<IResource> Supervised => Processes.Where(r => !r.Name.EndsWith("-install", StringComparison.Ordinal) && r.Name != "aspire-dashboard");

    /// <summary>Every process the fab runs; Aspire's hidden rebuilder of a project (its child) only runs on demand.</summary>
    private IEnumerable<IResource> Processes => model.Resources.Where(r => r is ProjectResource or ExecutableResource
        && r is not IResourceWithParent { Parent: ProjectResource });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(fab.LogDirectory);
        File.Delete(fab.EndpointsFile);
        var work = Processes.Select(r => WriteLogAsync(r, stoppingToken)).ToList();
        work.Add(RestartCrashedAsync(stoppingToken));
        work.Add(AnnounceWhenReadyAsync(stoppingToken));
        // Log watches do not all end on cancellation; shutdown must not wait for them.
        await Task.WhenAny(Task.WhenAll(work), Task.Delay(Timeout.Infinite, stoppingToken)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task WriteLogAsync(IResource resource, CancellationToken cancellationToken)
    {
        await using var file = new StreamWriter(Path.Combine(fab.LogDirectory, resource.Name + ".log"), append: true) { AutoFlush = true };
        var tail = tails.GetOrAdd(resource.Name, _ => new Queue<string>());
        await foreach (var batch in logs.WatchAsync(resource).WithCancellation(cancellationToken))
        {
            foreach (var line in batch)
            {
                var content = DcpTimestamp().Replace(line.Content, "", 1);
                await file.WriteLineAsync(content);
                lock (tail)
                {
                    tail.Enqueue(content);
                    if (tail.Count > TailLines)
                        tail.Dequeue();
                }
            }
        }
    }

    private async Task RestartCrashedAsync(CancellationToken cancellationToken)
    {
        var supervised = Supervised.Select(r => r.Name).ToHashSet();
        var lastState = new Dictionary<string, string?>();
        await foreach (var update in notifications.WatchAsync(cancellationToken))
        {
            if (!supervised.Contains(update.Resource.Name))
                continue;
            var state = update.Snapshot.State?.Text;
            lastState.TryGetValue(update.ResourceId, out var previous);
            lastState[update.ResourceId] = state;
            if (state == KnownResourceStates.Running && previous != KnownResourceStates.Running)
                restarts.AddOrUpdate(update.ResourceId, _ => (TimeSpan.FromSeconds(1), DateTime.UtcNow), (_, r) => r with { StartedAt = DateTime.UtcNow });
            var crashed = ExitedStates.Contains(state) && previous is not null && !ExitedStates.Contains(previous)
                && previous != KnownResourceStates.Stopping && !lifetime.ApplicationStopping.IsCancellationRequested;
            if (crashed)
                _ = RestartAsync(update.Resource.Name, update.ResourceId, update.Snapshot.ExitCode, cancellationToken);
        }
    }

    private async Task RestartAsync(string name, string resourceId, int? exitCode, CancellationToken cancellationToken)
    {
        var (backoff, startedAt) = restarts.GetOrAdd(resourceId, _ => (TimeSpan.FromSeconds(1), DateTime.UtcNow));
        if (DateTime.UtcNow - startedAt > StableAfter)
            backoff = TimeSpan.FromSeconds(1);
        restarts[resourceId] = (TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks)), startedAt);
        var report = new List<string> { $"{name}: exited with code {exitCode?.ToString() ?? "?"}; restarting in {backoff.TotalSeconds:0}s. Last lines:" };
        if (tails.TryGetValue(name, out var tail))
        {
            lock (tail)
                report.AddRange(tail.Select(line => "    " + line));
        }
        Console.WriteLine(string.Join(Environment.NewLine, report));
        try
        {
            await Task.Delay(backoff, cancellationToken);
            await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AnnounceWhenReadyAsync(CancellationToken cancellationToken)
    {
        foreach (var resource in Supervised.Concat(model.Resources.OfType<SiteDatabaseResource>()))
            await notifications.WaitForResourceHealthyAsync(resource.Name, cancellationToken);

        var entries = new Dictionary<string, Dictionary<string, string>>();
        if (DashboardUrl() is { } dashboard)
            entries["dashboard"] = new() { ["url"] = dashboard };
        foreach (var resource in model.Resources.Where(r => r.Name != "aspire-dashboard"))
        {
            if (resource is IResourceWithConnectionString withConnection and not ProjectResource)
                entries[resource.Name] = new() { ["connectionString"] = await withConnection.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? "" };
            else if (resource is IResourceWithEndpoints withEndpoints && withEndpoints.GetEndpoints().FirstOrDefault(e => e.EndpointName == "http") is { } http)
                entries[resource.Name] = new() { ["url"] = $"http://127.0.0.1:{http.Port}" };
            if (resource is ProjectResource && entries.TryGetValue(resource.Name, out var service))
                AddCredentials(resource.Name, service);
        }
        var temporary = fab.EndpointsFile + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(new { resources = entries }, IndentedJson), cancellationToken);
        // It will hold credentials: readable by its owner only.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, fab.EndpointsFile, overwrite: true);
        Console.WriteLine(Table(entries));
        Console.WriteLine("The fab is running. Press Ctrl+C to stop it.");
    }

    /// <summary>Beside each service's URL: the operator token (read, admin) and, at a LocalApi, its Sidecar's ingest key.</summary>
    private void AddCredentials(string resource, Dictionary<string, string> service)
    {
        if (credentials.OperatorToken is { } token)
            service["token"] = token;
        if (fab.Sites.FirstOrDefault(site => resource == $"localapi-{site}") is { } localApiSite && credentials.IngestKey(localApiSite) is { } ingestKey)
            service["ingestKey"] = ingestKey;
    }

    /// <summary>The dashboard's address, as the launch profile gives it (none when the dashboard is off, as in tests).</summary>
    private string? DashboardUrl() =>
        model.Resources.Any(r => r.Name == "aspire-dashboard") ? configuration["ASPNETCORE_URLS"]?.Split(';')[0] : null;

    private string Table(Dictionary<string, Dictionary<string, string>> entries)
    {
        var width = Math.Max(8, entries.Keys.Max(k => k.Length));
        var lines = new List<string> { "", $"{"RESOURCE".PadRight(width)}  ENDPOINT" };
        lines.AddRange(entries.Select(e => $"{e.Key.PadRight(width)}  {e.Value.Values.First()}"));
        lines.Add($"endpoints: {fab.EndpointsFile} (with each service's token; readable by you only)");
        lines.Add($"logs:      {fab.LogDirectory}");
        return string.Join(Environment.NewLine, lines);
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>DCP stamps each captured line; the log file keeps the service's own line.</summary>
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT[0-9:.]+Z ")]
    private static partial Regex DcpTimestamp();
}
