using System.Diagnostics;
using System.Text;

using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Cli;

/// <summary>The built <c>wafermonitor</c> command line, run as a process with its output captured.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    public static CliProcess Start(params string[] arguments)
    {
        var info = BuiltAssembly.StartInfo("WaferMonitor.Cli", "WaferMonitor.Cli", arguments);
        info.Environment.Remove("SIDECAR_URL");
        info.Environment.Remove("WAFERMONITOR_API");
        info.Environment.Remove("WAFERMONITOR_TOKEN");
        return new CliProcess(Process.Start(info)!);
    }

    /// <summary>Runs to the end (at most <paramref name="timeout"/>, default 30 s) and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        using var cli = Start(arguments);
        var exitCode = await cli.WaitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, cli.Stdout, cli.Stderr);
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"wafermonitor did not exit within {timeout}; stderr: {Stderr}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static void Append(StringBuilder target, string? line)
    {
        if (line is null)
            return;
        lock (target)
            target.AppendLine(line);
    }

    private static string Read(StringBuilder source)
    {
        lock (source)
            return source.ToString();
    }
}
