using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Cli;

/// <summary>
/// <c>wafermonitor run</c> as a user runs it: the built command line wraps real commands and reports them to the
/// fab's Sidecar; what LocalApi then holds is checked — status, exit code, metrics of the child's process tree, stderr tail.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class CliRunTests(FabFixture fab)
{
    private string Sidecar => fab.Endpoint("sidecar-fab1").ToString().TrimEnd('/');

    [Fact]
    public async Task A_succeeding_command_is_a_succeeded_job_with_its_metrics_and_exit_code_0()
    {
        var key = UniqueKey("ok");
        var (exitCode, stdout, stderr) = await CliProcess.RunAsync(
            "run", "--sidecar", Sidecar, "--site", "fab1", "--app", "cli-test", "--key", key, "--meta", "recipe=etch-7",
            "--", "sh", "-c", "echo hello; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("hello", stdout.Trim());
        var job = await SettledJobAsync(key);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("cli-test", job.GetProperty("app_name").GetString());
        var metadata = job.GetProperty("metadata");
        Assert.Equal(0, metadata.GetProperty("exit_code").GetInt32());
        Assert.Equal("etch-7", metadata.GetProperty("recipe").GetString());
        Assert.StartsWith("sh -c echo hello", metadata.GetProperty("command").GetString());
        Assert.True(job.GetProperty("duration_s").GetDouble() > 0);
        // The shell's loop is the child's CPU, not the tool's: the tool itself mostly waits.
        Assert.True(job.GetProperty("cpu_user_s").GetDouble() + job.GetProperty("cpu_system_s").GetDouble() > 0.05, job.ToString());
        Assert.False(metadata.TryGetProperty("stderr_tail", out _));
    }

    [Fact]
    public async Task A_failing_command_is_a_failed_job_with_its_exit_code_and_stderr_tail_and_the_same_exit_code()
    {
        var key = UniqueKey("fail");
        var (exitCode, _, stderr) = await CliProcess.RunAsync(
            "run", "--sidecar", Sidecar, "--site", "fab1", "--app", "cli-test", "--key", key,
            "--", "sh", "-c", "echo first >&2; echo boom >&2; exit 3");

        Assert.Equal(3, exitCode);
        Assert.Contains("boom", stderr); // stderr still reaches the terminal
        var job = await SettledJobAsync(key);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        var metadata = job.GetProperty("metadata");
        Assert.Equal(3, metadata.GetProperty("exit_code").GetInt32());
        Assert.Equal("first\nboom", metadata.GetProperty("stderr_tail").GetString());
        Assert.Equal("exited with code 3", metadata.GetProperty("error").GetString());
        Assert.False(metadata.TryGetProperty("signal", out _));
    }

    [Fact]
    public async Task Sigterm_is_forwarded_and_the_killed_command_is_a_failed_job_naming_the_signal()
    {
        var key = UniqueKey("term");
        using var cli = CliProcess.Start(
            "run", "--sidecar", Sidecar, "--site", "fab1", "--app", "cli-test", "--key", key, "--", "sleep", "30");
        await Events.Eventually(async () => await JobAsync(key) is { } job && job.GetProperty("status").GetString() == "running",
            "the job to be recorded as running", TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();

        Assert.True(Posix.Signal(cli.Id, Posix.SigTerm));
        var exitCode = await cli.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(128 + Posix.SigTerm, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed} to stop after SIGTERM");
        var settled = await SettledJobAsync(key);
        Assert.Equal("failed", settled.GetProperty("status").GetString());
        var metadata = settled.GetProperty("metadata");
        Assert.Equal("SIGTERM", metadata.GetProperty("signal").GetString());
        Assert.Equal(143, metadata.GetProperty("exit_code").GetInt32());
        Assert.True(settled.GetProperty("duration_s").GetDouble() < 30);
    }

    [Fact]
    public async Task Peak_memory_is_the_whole_child_trees_not_the_tools()
    {
        var key = UniqueKey("mem");
        var (exitCode, _, stderr) = await CliProcess.RunAsync(
            "run", "--sidecar", Sidecar, "--site", "fab1", "--app", "cli-test", "--key", key, "--progress-every", "0.5",
            "--", "sh", "-c", "python3 -c \"x=bytearray(200*1024*1024); import time; time.sleep(1)\"");

        Assert.True(exitCode == 0, stderr);
        var job = await SettledJobAsync(key);
        var memory = job.GetProperty("mem_max_mb").GetDouble();
        // python (a grandchild, under sh) holds 200 MB; the tool itself holds far less than that.
        Assert.InRange(memory, 195, 400);

        using var localApi = fab.Client("localapi-fab1");
        var detail = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job.GetProperty("job_id").GetGuid()}");
        var progress = detail.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("event").GetProperty("kind").GetString() == "progress").ToList();
        Assert.NotEmpty(progress);
        Assert.Contains(progress, e => e.GetProperty("event").GetProperty("metadata").GetProperty("processes").GetInt32() >= 2);
    }

    [Fact]
    public async Task With_the_sidecar_down_the_command_runs_and_keeps_its_exit_code()
    {
        var clock = Stopwatch.StartNew();
        var (exitCode, stdout, stderr) = await CliProcess.RunAsync(
            "run", "--sidecar", $"http://127.0.0.1:{UnusedPort()}", "--site", "fab1", "--app", "cli-test", "--key", UniqueKey("down"),
            "--", "sh", "-c", "echo still-runs; exit 3");

        Assert.Equal(3, exitCode);
        Assert.Equal("still-runs", stdout.Trim());
        // One warning at the end; a run long enough for a send attempt also warns when the outage is first seen.
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.StartsWith("wafermonitor: warning: ", line));
        Assert.StartsWith("wafermonitor: warning: sidecar http://127.0.0.1:", lines[^1]);
        Assert.Contains("not delivered; the command is not affected", lines[^1]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    private static string UniqueKey(string what) => $"cli-{what}-{Guid.NewGuid():N}"[..24];

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<JsonElement?> JobAsync(string key)
    {
        using var localApi = fab.Client("localapi-fab1");
        var page = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key={key}");
        return page.GetProperty("count").GetInt32() == 1 ? page.GetProperty("items")[0] : null;
    }

    private async Task<JsonElement> SettledJobAsync(string key)
    {
        JsonElement settled = default;
        await Events.Eventually(async () =>
        {
            if (await JobAsync(key) is not { } job || job.GetProperty("status").GetString() == "running")
                return false;
            settled = job;
            return true;
        }, $"job {key} to be stored and ended", TimeSpan.FromSeconds(20));
        return settled;
    }
}
