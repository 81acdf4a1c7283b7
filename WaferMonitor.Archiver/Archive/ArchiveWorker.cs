using Microsoft.Extensions.Options;

namespace WaferMonitor.Archiver.Archive;

/// <summary>Runs the archive on a schedule; a failed run (S3 down, schema not there yet) is simply retried on the next tick.</summary>
internal sealed partial class ArchiveWorker(ArchiveRunner runner, IOptions<ArchiverOptions> options, ILogger<ArchiveWorker> logger) : BackgroundService
{
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
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The runner has recorded and logged it as the status's last_error.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled archive run: {Windows} windows, {Rows} rows, archived through {Through}")]
    private partial void LogRun(int windows, long rows, DateTimeOffset? through);
}
