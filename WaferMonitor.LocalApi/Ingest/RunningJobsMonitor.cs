using Npgsql;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// Refreshes the <c>jobs_running</c> and <c>job_oldest_running_seconds</c> gauges. Gauge callbacks are synchronous and
/// run on every scrape, so the database is asked on a timer instead.
/// </summary>
internal sealed partial class RunningJobsMonitor(
    NpgsqlDataSource dataSource, IngestMetrics metrics, BackgroundLoops loops, TimeProvider clock, ILogger<RunningJobsMonitor> logger) : BackgroundService
{
    public const string LoopName = "running_jobs_gauges";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT count(*), min(started_at) FROM job WHERE status = 'running'");
                await using var reader = await command.ExecuteReaderAsync(stoppingToken);
                await reader.ReadAsync(stoppingToken);
                var oldest = reader.IsDBNull(1) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(1);
                metrics.Running(reader.GetInt64(0), oldest is { } started ? Math.Max(0, (clock.GetUtcNow() - started).TotalSeconds) : 0);
                loops.Succeeded(LoopName);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                loops.Failed(LoopName, ex);
                LogFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the running-jobs gauges")]
    private partial void LogFailed(Exception exception);
}
