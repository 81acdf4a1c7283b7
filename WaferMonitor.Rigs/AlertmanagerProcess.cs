using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace WaferMonitor.Rigs;

/// <summary>
/// A real Alertmanager (Debian's <c>prometheus-alertmanager</c>) on a loopback port, clustering off, storage in a temporary
/// directory, routing every alert on its own to a webhook — started and stopped by the test.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    public const string Binary = "prometheus-alertmanager";

    private readonly Process process;
    private readonly string directory;

    private AlertmanagerProcess(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Url = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Url { get; }

    /// <summary>How long a new group waits for more alerts before its first notification.</summary>
    public static readonly TimeSpan GroupWait = TimeSpan.FromSeconds(1);

    public static string? Installed() => ExecutableResource.FindOnPath(Binary);

    /// <summary>A loopback port to start it on later, where a LocalApi already points.</summary>
    public static int FreePort() => new PortAllocator().Next();

    /// <param name="webhook">Where every notification goes (one group per alert, sent at once, resolved ones too).</param>
    /// <param name="port">A fixed port (to start it where a LocalApi already points), else a free one.</param>
    /// <param name="groupBy">The route's <c>group_by</c>; by default every alert is a group of its own.</param>
    public static async Task<AlertmanagerProcess> StartAsync(Uri webhook, int? port = null, string groupBy = "['...']")
    {
        var binary = Installed() ?? throw new InvalidOperationException($"{Binary} is not installed (sudo apt-get install -y prometheus-alertmanager)");
        var directory = Path.Combine(Path.GetTempPath(), "wm-am-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "alertmanager.yml");
        await File.WriteAllTextAsync(config, $"""
            route:
              receiver: test-webhook
              group_by: {groupBy}
              group_wait: {GroupWait.TotalSeconds}s
              group_interval: 2s
              repeat_interval: 1h
            receivers:
              - name: test-webhook
                webhook_configs:
                  - url: {webhook}
                    send_resolved: true
            """);
        var listen = port ?? FreePort();
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var argument in new[]
        {
            "--config.file=" + config, "--storage.path=" + Path.Combine(directory, "data"), $"--web.listen-address=127.0.0.1:{listen}",
            "--cluster.listen-address=",
        })
            info.ArgumentList.Add(argument);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var alertmanager = new AlertmanagerProcess(process, directory, listen);
        using var client = new HttpClient { BaseAddress = alertmanager.Url, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/-/ready")).IsSuccessStatusCode)
                    return alertmanager;
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await alertmanager.DisposeAsync();
                throw new InvalidOperationException($"{Binary} did not become ready on port {listen}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The alerts Alertmanager holds now (GET /api/v2/alerts), active and, with <paramref name="all"/>, silenced/inhibited.</summary>
    public async Task<List<JsonElement>> AlertsAsync()
    {
        using var client = new HttpClient { BaseAddress = Url };
        return [.. (await client.GetFromJsonAsync<JsonElement>("/api/v2/alerts")).EnumerateArray()];
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
