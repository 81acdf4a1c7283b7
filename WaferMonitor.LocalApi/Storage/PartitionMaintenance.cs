using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Errors;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Storage;

public sealed record MaintenanceResult(bool Ran, IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, long KeysPruned, long JobsRemoved, long SubjobsRemoved);

/// <summary>
/// Creates daily event partitions ahead of time and applies retention: whole partitions older than the hot window,
/// expired dedupe keys, settled jobs and subjobs, error occurrences older than Errors:Retention. One replica at a time (advisory lock), with a lock timeout so partition
/// DDL never queues behind long readers and blocks ingest. Partitions are created as the owner; retention runs as its own
/// role, which drops an expired partition through the owner's wm_drop_event_partition and can insert nothing.
/// </summary>
internal sealed partial class PartitionMaintenance(
    [FromKeyedServices(SiteDatabaseRoles.Owner)] NpgsqlDataSource ownerDataSource,
    [FromKeyedServices(SiteDatabaseRoles.Retention)] NpgsqlDataSource retentionDataSource,
    IOptions<RetentionOptions> retention,
    IOptions<WaferMonitor.ServiceDefaults.Ingest.IngestOptions> ingest,
    IOptions<LocalApiOptions> site,
    IOptions<ErrorsOptions> errors,
    TimeProvider clock,
    ILogger<PartitionMaintenance> logger)
{
    private const long MaintenanceLockId = 0x57_4D_4D_41_49; // "WMMAI"
    private const string PartitionPrefix = "event_p";

    public async Task<MaintenanceResult> RunAsync(CancellationToken cancellationToken)
    {
        await using var owner = await ownerDataSource.OpenConnectionAsync(cancellationToken);
        await Scalar(owner, "SET lock_timeout = '5s'", cancellationToken);
        if (!(bool)(await Scalar(owner, $"SELECT pg_try_advisory_lock({MaintenanceLockId})", cancellationToken))!)
            return new MaintenanceResult(false, [], [], 0, 0, 0);
        try
        {
            var created = await CreateAheadAsync(owner, cancellationToken);
            await using var connection = await retentionDataSource.OpenConnectionAsync(cancellationToken);
            await Scalar(connection, "SET lock_timeout = '5s'", cancellationToken);
            var hotCutoff = clock.GetUtcNow() - retention.Value.Hot.Value;
            var (cutoff, quietCutoff) = await RetentionCutoffAsync(connection, hotCutoff, cancellationToken);
            var dropped = await DropExpiredAsync(connection, cutoff, cancellationToken);
            var keys = await Execute(connection, "DELETE FROM event_key WHERE ingested_at < @cutoff",
                clock.GetUtcNow() - ingest.Value.DedupeWindow.Value, cancellationToken);
            var jobs = await Execute(connection, $"DELETE FROM job WHERE last_event_at < @cutoff AND updated_at < @cutoff{QuietBeforeWatermark}", cutoff, cancellationToken, quietCutoff);
            var subjobs = await Execute(connection, $"DELETE FROM subjob WHERE last_event_at < @cutoff AND updated_at < @cutoff{QuietBeforeWatermark}", cutoff, cancellationToken, quietCutoff);
            await Execute(connection, "DELETE FROM error_occurrence WHERE stored_at < @cutoff", clock.GetUtcNow() - errors.Value.Retention.Value, cancellationToken);
            if (created.Count + dropped.Count > 0 || jobs + subjobs > 0)
                LogMaintenance(created.Count, dropped.Count, keys, jobs, subjobs);
            return new MaintenanceResult(true, created, dropped, keys, jobs, subjobs);
        }
        finally
        {
            await Scalar(owner, $"SELECT pg_advisory_unlock({MaintenanceLockId})", CancellationToken.None);
        }
    }

    /// <summary>
    /// The Archiver snapshots a running row when it goes quiet for the hot window (last_event_at + Hot), which can be
    /// later than the watermark even when both timestamps are before it: such a row stays until that moment is archived.
    /// </summary>
    private string QuietBeforeWatermark => retention.Value.RequireArchive ? " AND (status <> 'running' OR last_event_at < @quiet_cutoff)" : "";

    private async Task<List<string>> CreateAheadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var existing = await PartitionsAsync(connection, cancellationToken);
        var created = new List<string>();
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        for (var day = today.AddDays(-1); day <= today.AddDays(retention.Value.PartitionsAhead); day = day.AddDays(1))
        {
            var name = PartitionName(day);
            if (existing.ContainsKey(name))
                continue;
            await Scalar(connection, $"""
                CREATE TABLE IF NOT EXISTS {name} PARTITION OF event
                FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')
                """, cancellationToken);
            created.Add(name);
        }
        return created;
    }

    /// <summary>
    /// The hot-window cutoff, held back to the archive watermark when the archive is required; and the cutoff for
    /// the last event of a running row (the watermark minus the hot window, when it went quiet).
    /// </summary>
    private async Task<(DateTimeOffset Cutoff, DateTimeOffset QuietCutoff)> RetentionCutoffAsync(
        NpgsqlConnection connection, DateTimeOffset hotCutoff, CancellationToken cancellationToken)
    {
        if (!retention.Value.RequireArchive)
            return (hotCutoff, hotCutoff);
        await using var command = new NpgsqlCommand("SELECT archived_through FROM archive_watermark WHERE site_id = @site", connection);
        command.Parameters.AddWithValue("site", site.Value.SiteId);
        var watermark = await command.ExecuteScalarAsync(cancellationToken);
        if (watermark is not DateTime archivedThrough)
            return (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
        var archived = new DateTimeOffset(archivedThrough, TimeSpan.Zero);
        return (archived < hotCutoff ? archived : hotCutoff, archived - retention.Value.Hot.Value);
    }

    private static async Task<List<string>> DropExpiredAsync(NpgsqlConnection connection, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        foreach (var (name, day) in await PartitionsAsync(connection, cancellationToken))
        {
            var upperBound = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (upperBound > cutoff)
                continue;
            await using var drop = new NpgsqlCommand("SELECT wm_drop_event_partition(@name)", connection);
            drop.Parameters.AddWithValue("name", name);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            dropped.Add(name);
        }
        return dropped;
    }

    internal static async Task<Dictionary<string, DateOnly>> PartitionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var partitions = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'event'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (name.StartsWith(PartitionPrefix, StringComparison.Ordinal)
                && DateOnly.TryParseExact(name[PartitionPrefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                partitions[name] = day;
        }
        return partitions;
    }

    private static string PartitionName(DateOnly day) => PartitionPrefix + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<long> Execute(
        NpgsqlConnection connection, string sql, DateTimeOffset cutoff, CancellationToken cancellationToken, DateTimeOffset? quietCutoff = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("cutoff", cutoff);
        if (quietCutoff is { } quiet)
            command.Parameters.AddWithValue("quiet_cutoff", quiet);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Maintenance: {Created} partitions created, {Dropped} dropped, {Keys} dedupe keys pruned, {Jobs} jobs and {Subjobs} subjobs removed")]
    private partial void LogMaintenance(int created, int dropped, long keys, long jobs, long subjobs);
}

/// <summary>Runs maintenance on start-up (so partitions exist before the first event) and then periodically.</summary>
internal sealed partial class PartitionMaintenanceService(
    PartitionMaintenance maintenance, MigrationRunner migrations, BackgroundLoops loops, IOptions<RetentionOptions> options,
    ILogger<PartitionMaintenanceService> logger)
    : BackgroundService
{
    public const string LoopName = "partition_maintenance";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrations.ApplyAsync(cancellationToken);
        await maintenance.RunAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval.Value);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await maintenance.RunAsync(stoppingToken);
                loops.Succeeded(LoopName);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                loops.Failed(LoopName, ex);
                LogFailed(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition maintenance failed; it will retry on the next interval")]
    private partial void LogFailed(Exception exception);
}
