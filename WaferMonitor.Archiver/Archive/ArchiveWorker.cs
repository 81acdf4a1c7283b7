using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.Archiver.Archive;

/// <summary>Runs the archive on a schedule; a failed run (S3 down, schema not there yet) is simply retried on the next tick.</summary>
internal sealed partial class ArchiveWorker(
    ArchiveRunner runner, BackgroundLoops loops, IOptions<ArchiverOptions> options, ILogger<ArchiveWorker> logger) : BackgroundService
{
    public const string LoopName = "archive";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval.Value);
        do
        {
            try
            {
                var summary = await runner.RunAsync(throughNow: false, stoppingToken);
                if (summary.Windows > 0)
                    LogRun(summary.Windows, summary.Rows, summary.Through);
                loops.Succeeded(LoopName);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The runner has logged it and shows it as the status's last_error; repeated, it degrades health too.
                loops.Failed(LoopName, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled archive run: {Windows} windows, {Rows} rows, archived through {Through}")]
    private partial void LogRun(int windows, long rows, DateTimeOffset? through);
}
