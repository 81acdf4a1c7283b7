using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Errors;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Storage;

public sealed record MaintenanceResult(bool Ran, IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, long KeysPruned, long JobsRemoved, long SubjobsRemoved);

/// <summary>
/// Creates daily event partitions ahead of time and applies retention: whole partitions older than the hot window,
/// expired dedupe keys, settled jobs and subjobs, error occurrences older than Errors:Retention. One replica at a time (advisory lock), with a lock timeout so partition
/// DDL never queues behind long readers and blocks ingest. Partitions are created, detached and dropped as the owner (only
/// a table's owner may); expired rows are deleted as the retention role, in batches so each transaction stays short.
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
    private const int DeleteBatch = 10_000;

    /// <summary>Maintenance of one site's database through one data source (one role), outside a host: tests and benchmarks.</summary>
    public static PartitionMaintenance ForSite(NpgsqlDataSource dataSource, string siteId, RetentionOptions? retention = null) =>
        new(dataSource, dataSource, Options.Create(retention ?? new RetentionOptions()), Options.Create(new WaferMonitor.ServiceDefaults.Ingest.IngestOptions()),
            Options.Create(new LocalApiOptions { SiteId = siteId }), Options.Create(new ErrorsOptions()), TimeProvider.System,
            NullLogger<PartitionMaintenance>.Instance);

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
            var dropped = await DropExpiredAsync(owner, cutoff, cancellationToken);
            var keys = await DeleteInBatchesAsync(connection, "event_key", "ingested_at < @cutoff",
                clock.GetUtcNow() - ingest.Value.DedupeWindow.Value, cancellationToken);
            var jobs = await DeleteInBatchesAsync(connection, "job", $"updated_at < @cutoff AND last_event_at < @cutoff{QuietBeforeWatermark}", cutoff, cancellationToken, quietCutoff);
            var subjobs = await DeleteInBatchesAsync(connection, "subjob", $"updated_at < @cutoff AND last_event_at < @cutoff{QuietBeforeWatermark}", cutoff, cancellationToken, quietCutoff);
            await DeleteInBatchesAsync(connection, "error_occurrence", "stored_at < @cutoff", clock.GetUtcNow() - errors.Value.Retention.Value, cancellationToken);
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
        var existing = (await PartitionsAsync(connection, cancellationToken)).Where(p => p.Attached).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var created = new List<string>();
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        for (var day = today.AddDays(-1); day <= today.AddDays(retention.Value.PartitionsAhead); day = day.AddDays(1))
        {
            var name = PartitionName(day);
            if (existing.Contains(name))
                continue;
            // Made apart and then attached: CREATE TABLE … PARTITION OF would lock event ACCESS EXCLUSIVE, queueing
            // every insert behind the longest reader for up to the lock timeout; ATTACH takes SHARE UPDATE EXCLUSIVE,
            // which inserts and reads do not wait for.
            await Scalar(connection, $"CREATE TABLE IF NOT EXISTS {name} (LIKE event INCLUDING ALL)", cancellationToken);
            await Scalar(connection, $"""
                ALTER TABLE event ATTACH PARTITION {name}
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

    /// <summary>
    /// Detaches each expired partition CONCURRENTLY — which, unlike DROP TABLE on an attached partition, never takes a
    /// lock on <c>event</c> that would make ingest's inserts wait — and then drops it. A detach cut short (a lock
    /// timeout, a restart) is finished on the next run, and a detached table left behind is dropped.
    /// </summary>
    private static async Task<List<string>> DropExpiredAsync(NpgsqlConnection connection, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        // A table may have one detach pending at a time: one cut short is finished first.
        foreach (var partition in (await PartitionsAsync(connection, cancellationToken)).OrderByDescending(p => p.DetachPending))
        {
            var upperBound = new DateTimeOffset(partition.Day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (upperBound > cutoff)
                continue;
            if (partition.DetachPending)
                await Scalar(connection, $"ALTER TABLE event DETACH PARTITION {partition.Name} FINALIZE", cancellationToken);
            else if (partition.Attached)
                await Scalar(connection, $"ALTER TABLE event DETACH PARTITION {partition.Name} CONCURRENTLY", cancellationToken);
            await Scalar(connection, $"DROP TABLE IF EXISTS {partition.Name}", cancellationToken);
            dropped.Add(partition.Name);
        }
        return dropped;
    }

    internal sealed record EventPartition(string Name, DateOnly Day, bool Attached, bool DetachPending);

    /// <summary>The tables named as event's daily partitions: attached, being detached, or detached and not yet dropped.</summary>
    internal static async Task<List<EventPartition>> PartitionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var partitions = new List<EventPartition>();
        await using var command = new NpgsqlCommand("""
            SELECT c.relname, i.inhrelid IS NOT NULL, COALESCE(i.inhdetachpending, false)
            FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'event'::regclass
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'event\_p%'
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (DateOnly.TryParseExact(name[PartitionPrefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                partitions.Add(new EventPartition(name, day, reader.GetBoolean(1), reader.GetBoolean(2)));
        }
        return partitions;
    }

    private static string PartitionName(DateOnly day) => PartitionPrefix + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes the rows matching <paramref name="condition"/> a batch at a time, each batch its own short transaction: a
    /// backlog (the archive caught up after an outage, a day of keys) never becomes one transaction of millions of rows.
    /// A row changed after a batch picked it keeps its new version (its ctid no longer matches).
    /// </summary>
    private static async Task<long> DeleteInBatchesAsync(NpgsqlConnection connection, string table, string condition, DateTimeOffset cutoff,
        CancellationToken cancellationToken, DateTimeOffset? quietCutoff = null)
    {
        await using var command = new NpgsqlCommand(
            $"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {condition} LIMIT {DeleteBatch}))", connection);
        command.Parameters.AddWithValue("cutoff", cutoff);
        if (quietCutoff is { } quiet)
            command.Parameters.AddWithValue("quiet_cutoff", quiet);
        long total = 0;
        int deleted;
        do
        {
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        }
        while (deleted == DeleteBatch);
        return total;
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
