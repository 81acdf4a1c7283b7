using System.Net;
using System.Net.Sockets;

namespace WaferMonitor.Tests.Cli;

/// <summary>Mistakes on the command line and unreachable services are one clear line on stderr and a non-zero exit.</summary>
public sealed class CliErrorTests
{
    [Theory]
    [InlineData(2, "--key is required", "run", "--site", "fab1", "--app", "etch", "--", "true")]
    [InlineData(2, "--parent needs --sub-key", "run", "--site", "fab1", "--app", "etch", "--parent", "0190b7a2-0000-7000-8000-000000000001", "--", "true")]
    [InlineData(2, "Option '--site' is required", "start", "--app", "etch", "--key", "k")]
    [InlineData(2, "--meta 'x' must be key=value", "start", "--site", "fab1", "--app", "etch", "--key", "k", "--meta", "x")]
    [InlineData(2, "pass --api or set WAFERMONITOR_API", "jobs")]
    [InlineData(2, "unknown command or argument 'nonsense'", "nonsense")]
    public async Task A_usage_error_is_one_line_and_exit_code_2(int expectedExitCode, string expected, params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await CliProcess.RunAsync(arguments);

        Assert.Equal(expectedExitCode, exitCode);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wafermonitor: error: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task An_unreachable_local_api_is_one_line_and_exit_code_1()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (exitCode, _, stderr) = await CliProcess.RunAsync("jobs", "--api", $"http://127.0.0.1:{port}");

        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"wafermonitor: error: GET http://127.0.0.1:{port}/v1/jobs?limit=20: ", line);
    }

    [Fact]
    public async Task A_command_that_cannot_be_run_exits_127_like_a_shell()
    {
        var (exitCode, _, stderr) = await CliProcess.RunAsync(
            "run", "--sidecar", "http://127.0.0.1:9", "--site", "fab1", "--app", "etch", "--key", "k", "--", "no-such-command-here");

        Assert.Equal(127, exitCode);
        Assert.Contains("wafermonitor: error: cannot run 'no-such-command-here': No such file or directory", stderr);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("start")]
    [InlineData("finish")]
    [InlineData("fail")]
    [InlineData("jobs")]
    [InlineData("tail")]
    public async Task Every_verb_has_help(string verb)
    {
        var (exitCode, stdout, _) = await CliProcess.RunAsync(verb, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", stdout);
        Assert.Contains("Options:", stdout);
    }
}
