using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.Archiver.Storage;

namespace WaferMonitor.Archiver.Archive;

public sealed record RunSummary(int Windows, int Objects, long Rows, long Bytes, DateTimeOffset? Through);

public sealed record ArchiveStatus(
    DateTimeOffset? LastRunAt, long WindowsArchived, long WindowsPending, double? LagSeconds, long BytesArchived, string? LastError)
{
    public static ArchiveStatus Empty { get; } = new(null, 0, 0, null, 0, null);
}

/// <summary>The archive is not usable yet (schema missing) or S3 refused: the run stops and everything stays in the database.</summary>
public sealed class ArchiveUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Archives every closed window after the watermark, oldest first, one at a time. Windows are contiguous: each starts
/// where the last committed one ended and ends at the next whole hour, or earlier for a run through now.
/// Per window: plan it (pending row), export, record the object list, delete the keys of an earlier attempt it no
/// longer produces, upload, then commit window and watermark together.
/// </summary>
internal sealed partial class ArchiveRunner(
    NpgsqlDataSource dataSource,
    ArchiveManifest manifest,
    WindowExporter exporter,
    ArchiveObjectStore store,
    ArchiveMetrics metrics,
    IOptions<ArchiverOptions> options,
    ILogger<ArchiveRunner> logger) : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim gate = new(1, 1);
    private DateTimeOffset? lastRunAt;
    private string? lastError;

    private string Site => options.Value.SiteId;

    /// <param name="throughNow">Also close the current partial window, up to now.</param>
    public async Task<RunSummary> RunAsync(bool throughNow, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var summary = await RunLockedAsync(throughNow, cancellationToken);
            lastError = null;
            metrics.RecordRun(succeeded: true);
            return summary;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            lastError = ex.Message;
            metrics.RecordRun(succeeded: false);
            LogRunFailed(ex);
            throw;
        }
        finally
        {
            lastRunAt = DateTimeOffset.UtcNow;
            gate.Release();
            await RefreshStatusAsync(CancellationToken.None);
        }
    }

    private async Task<RunSummary> RunLockedAsync(bool throughNow, CancellationToken cancellationToken)
    {
        if (!await manifest.SchemaReadyAsync(cancellationToken))
            throw new ArchiveUnavailableException("waiting for LocalApi's migrations: table archive_window does not exist yet");
        if (await store.ProblemAsync(cancellationToken) is { } problem)
            throw new ArchiveUnavailableException(problem + "; events stay in the database until the archive can be written");

        // Replicas of one site take turns; the session lock is released with the connection.
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('wafermonitor-archiver:' || @site, 0))", lockConnection))
        {
            command.Parameters.AddWithValue("site", Site);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var limit = await LimitAsync(throughNow, cancellationToken);
        int windows = 0, objects = 0;
        long rows = 0, bytes = 0;
        while (await NextWindowAsync(limit, throughNow, cancellationToken) is { } window)
        {
            var (windowObjects, windowRows, windowBytes) = await ArchiveWindowAsync(window, cancellationToken);
            windows++;
            objects += windowObjects;
            rows += windowRows;
            bytes += windowBytes;
        }
        var totals = await manifest.TotalsAsync(Site, cancellationToken);
        return new RunSummary(windows, objects, rows, bytes, totals.ArchivedThrough);
    }

    /// <summary>
    /// How far this run may go: now (through=now) or now minus the lag, and never past the start of a transaction
    /// still open, whose rows carry its start time but are not visible yet.
    /// </summary>
    private async Task<DateTimeOffset> LimitAsync(bool throughNow, CancellationToken cancellationToken)
    {
        var (now, oldestOpen) = await manifest.ClockAsync(cancellationToken);
        var limit = throughNow ? now : now - options.Value.WindowLag.Value;
        return oldestOpen is { } open && open < limit ? open : limit;
    }

    private async Task<ArchiveWindow?> NextWindowAsync(DateTimeOffset limit, bool throughNow, CancellationToken cancellationToken)
    {
        if (await manifest.PendingAsync(Site, cancellationToken) is { } pending)
            return pending;
        var start = (await manifest.TotalsAsync(Site, cancellationToken)).ArchivedThrough;
        if (start is null)
        {
            if (await manifest.FirstActivityAsync(cancellationToken) is not { } first)
                return null;
            start = FloorHour(first);
        }
        var hourEnd = FloorHour(start.Value) + Hour;
        ArchiveWindow window;
        if (hourEnd <= limit)
            window = new ArchiveWindow(start.Value, hourEnd);
        else if (throughNow && start.Value < limit)
            window = new ArchiveWindow(start.Value, limit);
        else
            return null;
        await manifest.PlanAsync(Site, window, cancellationToken);
        return window;
    }

    private async Task<(int Objects, long Rows, long Bytes)> ArchiveWindowAsync(ArchiveWindow window, CancellationToken cancellationToken)
    {
        using var activity = ArchiverTelemetry.Source.StartActivity("archive.window");
        activity?.SetTag("wafer.site", Site);
        activity?.SetTag("archive.window_start", window.Start.ToString("O"));
        activity?.SetTag("archive.window_end", window.End.ToString("O"));
        // One work directory per site, emptied before each window (under the site's advisory lock): files a crashed run
        // left behind are removed by the next run instead of piling up.
        var directory = Path.Combine(Path.GetTempPath(), "wafermonitor-archiver", Site);
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        Directory.CreateDirectory(directory);
        try
        {
            var files = await exporter.ExportAsync(window, directory, cancellationToken);
            var keys = files.Select(f => f.Object.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var stale in (await manifest.RecordedKeysAsync(Site, window, cancellationToken)).Where(k => !keys.Contains(k)))
                await store.DeleteAsync(stale, cancellationToken);
            await manifest.RecordObjectsAsync(Site, window, files.Select(f => f.Object).ToList(), cancellationToken);
            foreach (var file in files)
                await store.PutFileAsync(file.Object.Key, file.Path, cancellationToken);
            if (options.Value.CrashAfterUploadForTesting && files.Count > 0)
                Environment.FailFast($"Archiver:CrashAfterUploadForTesting: stopping after uploading window {window.Id}, before its commit");
            var rows = files.Sum(f => f.Object.Rows);
            var bytes = files.Sum(f => f.Object.Bytes);
            await manifest.CommitAsync(Site, window, rows, bytes, cancellationToken);
            metrics.RecordWindow(files.GroupBy(f => f.Object.Table).Select(g => (g.Key, g.Sum(f => f.Object.Rows))), bytes);
            LogWindow(window.Id, files.Count, rows, bytes);
            return (files.Count, rows, bytes);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public async Task<ArchiveStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var (now, _) = await manifest.ClockAsync(cancellationToken);
        var totals = await manifest.TotalsAsync(Site, cancellationToken);
        var from = totals.ArchivedThrough ?? (await manifest.FirstActivityAsync(cancellationToken) is { } first ? FloorHour(first) : null);
        var closedUpTo = now - options.Value.WindowLag.Value;
        long pending = 0;
        if (from is { } start && FloorHour(start) + Hour <= closedUpTo)
            pending = (long)((FloorHour(closedUpTo) - FloorHour(start)).Ticks / Hour.Ticks);
        var lag = from is { } behind ? Math.Max(0, (now - behind).TotalSeconds) : (double?)null;
        var status = new ArchiveStatus(lastRunAt, totals.WindowsArchived, pending, lag, totals.BytesArchived, lastError);
        metrics.Observe(status);
        return status;
    }

    private async Task RefreshStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StatusAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            LogStatusFailed(ex);
        }
    }

    internal static DateTimeOffset FloorHour(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);

    public void Dispose() => gate.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived window {Window}: {Objects} objects, {Rows} rows, {Bytes} bytes")]
    private partial void LogWindow(string window, int objects, long rows, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Archive run failed; the data stays in the database and the run is retried")]
    private partial void LogRunFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not compute the archive status")]
    private partial void LogStatusFailed(Exception exception);
}
