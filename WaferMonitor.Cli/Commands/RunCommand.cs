using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using WaferMonitor.Cli.Processes;
using WaferMonitor.Cli.Reporting;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Cli.Commands;

/// <summary><c>wafermonitor run … -- command args…</c>: runs a command and records it as a job or subjob.</summary>
internal static class RunCommand
{
    /// <summary>
    /// How often the child's process tree is measured; the peak memory is the largest measurement. The first samples
    /// come sooner (10, 20, 40 … ms) so that a command of a few milliseconds is measured at all.
    /// </summary>
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan FirstSampleDelay = TimeSpan.FromMilliseconds(10);

    private const int StderrTailLines = 20;
    private const int StderrTailChars = 4000;

    /// <summary>Longer command lines are cut: an event over the Sidecar's metadata limit would be refused whole.</summary>
    private const int MaxCommandChars = 2000;

    /// <summary>A shell's exit code for a command that cannot be run.</summary>
    private const int CannotRun = 127;

    public static Command Create()
    {
        var send = new SendOptions();
        var key = new Option<string?>("--key") { Description = "Business key of the job, e.g. LOT-42 (required for a job)" };
        var subKey = new Option<string?>("--sub-key") { Description = "Sub key of the subjob, e.g. wafer-07 (with --parent)" };
        var progressEvery = new Option<double>("--progress-every")
        {
            Description = "Seconds between progress events while the command runs",
            DefaultValueFactory = _ => 30,
        };
        var command = new Argument<string[]>("command")
        {
            Description = "The command and its arguments, after --",
            Arity = ArgumentArity.OneOrMore,
        };
        var run = new Command("run", "Run a command and record it as a job (or a subjob with --parent): started, progress, "
            + "then finished or error with its exit code, duration, CPU and peak memory of its whole process tree, and the "
            + "last lines of its stderr on failure. Exits with the command's exit code; monitoring being down never changes it.");
        send.AddTo(run);
        run.Add(key);
        run.Add(subKey);
        run.Add(progressEvery);
        run.Add(command);
        run.SetAction(async parse =>
        {
            var interval = parse.GetValue(progressEvery);
            if (!double.IsFinite(interval) || interval < 0.1 || interval > 86_400)
                throw new UsageException("--progress-every must be from 0.1 to 86400 seconds");
            var target = send.Target(parse, parse.GetValue(key), parse.GetValue(subKey));
            await using var reporter = send.Reporter(parse, target);
            return await RunAsync(reporter, parse.GetValue(command)!, send.Metadata(parse), TimeSpan.FromSeconds(interval));
        });
        return run;
    }

    private static async Task<int> RunAsync(EventReporter reporter, string[] command, Dictionary<string, object?> metadata, TimeSpan progressEvery)
    {
        var startedMetadata = new Dictionary<string, object?>(metadata, StringComparer.Ordinal)
        {
            ["command"] = Shorten(string.Join(' ', command)),
            ["host"] = Environment.MachineName,
        };
        reporter.Send(EventKinds.Started, EntityStatuses.Running, null, startedMetadata);

        var before = Posix.ReapedChildren();
        var clock = Stopwatch.StartNew();
        var tail = new StderrTail(StderrTailLines, StderrTailChars);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(command, tail);
        }
        catch (Win32Exception ex)
        {
            // The bare reason ("No such file or directory"), not .NET's sentence around it.
            var error = $"cannot run '{command[0]}': {new Win32Exception(ex.NativeErrorCode).Message}";
            Terminal.Error(error);
            reporter.Send(EventKinds.Error, EntityStatuses.Failed,
                new Dictionary<string, double> { [MetricNames.DurationSeconds] = clock.Elapsed.TotalSeconds },
                new Dictionary<string, object?> { ["exit_code"] = CannotRun, ["error"] = error });
            await reporter.FlushAsync();
            return CannotRun;
        }

        using (child)
        {
            var meter = new ProcessTreeMeter(child.Id);
            using var stopSampling = new CancellationTokenSource();
            var sampling = SampleAsync(meter, reporter, clock, progressEvery, stopSampling.Token);
            var exitCode = await child.WaitAsync();
            var duration = clock.Elapsed.TotalSeconds;
            await stopSampling.CancelAsync();
            await sampling;
            try
            {
                var succeeded = exitCode == 0;
                reporter.Send(succeeded ? EventKinds.Finished : EventKinds.Error, succeeded ? EntityStatuses.Succeeded : EntityStatuses.Failed,
                    Metrics(duration, before, meter), Outcome(exitCode, tail));
                await reporter.FlushAsync();
            }
            catch (Exception ex)
            {
                // Monitoring must never change what the command did.
                Terminal.Warn($"could not record the command's end: {ex.Message}");
            }
            return exitCode;
        }
    }

    private static string Shorten(string commandLine) =>
        commandLine.Length <= MaxCommandChars ? commandLine : commandLine[..MaxCommandChars] + "…";

    private static Dictionary<string, double> Metrics(double duration, ChildrenUsage before, ProcessTreeMeter meter)
    {
        // The child is reaped now, so its tree's CPU time is in our children's usage (not our own).
        var after = Posix.ReapedChildren();
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.DurationSeconds] = duration,
            [MetricNames.CpuUserSeconds] = Math.Max(0, after.UserSeconds - before.UserSeconds),
            [MetricNames.CpuSystemSeconds] = Math.Max(0, after.SystemSeconds - before.SystemSeconds),
            [MetricNames.MemMaxMb] = meter.PeakMemoryMb,
        };
    }

    /// <summary><c>exit_code</c>; on failure also <c>signal</c> (when killed), <c>error</c> and <c>stderr_tail</c>.</summary>
    private static Dictionary<string, object?> Outcome(int exitCode, StderrTail tail)
    {
        var outcome = new Dictionary<string, object?>(StringComparer.Ordinal) { ["exit_code"] = exitCode };
        if (exitCode == 0)
            return outcome;
        var signal = Signals.FromExitCode(exitCode);
        if (signal is not null)
            outcome["signal"] = signal;
        outcome["error"] = signal is null ? $"exited with code {exitCode}" : $"killed by {signal} (exit code {exitCode})";
        outcome["stderr_tail"] = tail.Text();
        return outcome;
    }

    /// <summary>Measures the process tree until <paramref name="stop"/>, and sends a progress event every <paramref name="progressEvery"/>.</summary>
    private static async Task SampleAsync(ProcessTreeMeter meter, EventReporter reporter, Stopwatch clock, TimeSpan progressEvery, CancellationToken stop)
    {
        var nextProgress = progressEvery;
        var delay = FirstSampleDelay;
        try
        {
            while (true)
            {
                try
                {
                    var sample = meter.Sample();
                    if (clock.Elapsed >= nextProgress)
                    {
                        nextProgress += progressEvery;
                        reporter.Send(EventKinds.Progress, EntityStatuses.Running, null, new Dictionary<string, object?>(StringComparer.Ordinal)
                        {
                            ["elapsed_s"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                            ["processes"] = sample.Processes,
                            ["rss_mb"] = Math.Round(sample.ResidentMb, 1),
                        });
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A /proc entry we could not read costs one sample, never the command.
                }
                await Task.Delay(delay, stop);
                delay = delay * 2 < SampleInterval ? delay * 2 : SampleInterval;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
