using System.Diagnostics;

namespace WaferMonitor.Rigs;

public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// One child process: its output is prefixed on the console and appended to its log file; when it exits unexpectedly
/// the exit code and last lines are reported and it is restarted with exponential backoff (on the same command line,
/// so on the same URL).
/// </summary>
internal sealed class ManagedProcess(string name, ProcessSpec spec, HostContext context, Action<ResourceState> setState, int stopSignal)
{
    private const int TailLines = 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(60);

    private readonly Queue<string> tail = new();
    private readonly Lock tailGate = new();
    private readonly CancellationTokenSource stopping = new();
    private Process? process;
    private Task? supervisor;
    private StreamWriter? log;

    public int? ProcessId => process is { HasExited: false } p ? p.Id : null;

    public int Restarts { get; private set; }

    public void Start()
    {
        Directory.CreateDirectory(context.LogDirectory);
        log = new StreamWriter(Path.Combine(context.LogDirectory, name + ".log"), append: true) { AutoFlush = true };
        supervisor = SuperviseAsync(stopping.Token);
    }

    public string[] Tail()
    {
        lock (tailGate)
            return [.. tail];
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            var startedAt = Stopwatch.GetTimestamp();
            var child = Launch();
            await child.WaitForExitAsync(CancellationToken.None);
            // Output is read asynchronously; make sure the last lines are in before reporting them.
            child.WaitForExit();
            // A terminal's Ctrl+C reaches the children too; give our own shutdown a moment to be noticed before calling it a crash.
            await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken));
            if (cancellationToken.IsCancellationRequested)
                break;
            setState(ResourceState.Restarting);
            if (Stopwatch.GetElapsedTime(startedAt) > StableAfter)
                backoff = TimeSpan.FromSeconds(1);
            context.Console.Always($"{name}: exited with code {child.ExitCode}; restarting in {backoff.TotalSeconds:0}s. Last lines:");
            foreach (var line in Tail())
                context.Console.Always($"    {line}");
            Restarts++;
            try
            {
                await Task.Delay(backoff, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            setState(ResourceState.Starting);
        }
    }

    private Process Launch()
    {
        var info = new ProcessStartInfo(spec.FileName)
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in spec.Arguments)
            info.ArgumentList.Add(argument);
        foreach (var (key, value) in spec.Environment)
            info.Environment[key] = value;
        var child = new Process { StartInfo = info };
        child.OutputDataReceived += (_, e) => OnLine(e.Data);
        child.ErrorDataReceived += (_, e) => OnLine(e.Data);
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        process = child;
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (tailGate)
        {
            tail.Enqueue(line);
            if (tail.Count > TailLines)
                tail.Dequeue();
            log?.WriteLine(line);
        }
        context.Console.Line(name, line);
    }

    /// <summary>Asks the child to stop with its graceful signal, then kills it if it has not exited within the grace period.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await stopping.CancelAsync();
        var child = process;
        if (child is not null && !child.HasExited)
        {
            Posix.Signal(child.Id, stopSignal);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None);
            }
        }
        if (supervisor is not null)
            await supervisor;
        lock (tailGate)
            log?.Dispose();
    }
}
