using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.LocalApi.Errors;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.ServiceDefaults.Telemetry;

namespace WaferMonitor.LocalApi.Ingest;

/// <param name="Rejected">Events the database refused as data (found by splitting the batch); the others are stored.</param>
public sealed record StoreResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected)
{
    public static readonly StoreResult Empty = new(0, 0, []);

    public StoreResult Plus(StoreResult other) => new(Accepted + other.Accepted, Duplicates + other.Duplicates, [.. Rejected, .. other.Rejected]);
}

/// <summary>
/// Stores batches in transactions with a constant number of round trips: one that claims the idempotency keys, upserts
/// the folded projections and reserves the event seqs; the COPY of the new events; the wait for the transactions that
/// reserved seqs before it to end (so seqs become visible in order); the commit.
/// Batches that queued up while the transactions in flight ran are stored together in one transaction (up to
/// <see cref="LocalApiOptions.MaxEventsPerTransaction"/> events), each request still answered with its own counts.
/// </summary>
internal sealed partial class EventStore(
    [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, IngestMetrics metrics, DbMetrics db, IOptions<LocalApiOptions> options,
    IOptions<ErrorsOptions> errors, ILogger<EventStore> logger)
{
    private readonly bool fingerprint = errors.Value.Enabled;

    /// <summary>
    /// Transactions in flight at once. More in flight than the machine has cores only compete for its CPU, and each takes
    /// fewer of the batches that queued up meanwhile.
    /// </summary>
    private readonly SemaphoreSlim concurrency = new(options.Value.MaxConcurrentBatches);

    /// <summary>Requests' batches not yet taken into a transaction, oldest first.</summary>
    private readonly LinkedList<PendingBatch> waiting = new();

    private readonly int maxEventsPerTransaction = options.Value.MaxEventsPerTransaction;

    /// <summary>
    /// Held only while a transaction reserves its block of event seqs and takes its ticket (<c>wm_reserve_event_seqs</c>),
    /// so blocks are contiguous and tickets follow seq order. Sequences are not handed out in commit order; a transaction
    /// commits only once every transaction with a smaller ticket has ended (<c>wm_await_earlier_tickets</c>), so "everything
    /// after seq X" never skips an event that commits afterwards with a smaller seq — while the transactions' COPYs, the
    /// bulk of their work, run side by side.
    /// </summary>
    internal const long ReservationLockId = 0x57_4D_53_45_51; // "WMSEQ"

    public const string NotifyChannel = "wafermonitor_events";

    /// <summary>
    /// Stores a request's batch: it waits for a turn, and a turn stores everything that queued up meanwhile (this batch
    /// and others) in as few transactions as the size cap allows, until this batch is stored — by this turn or another's.
    /// A transaction's fixed costs (the statements, the lock, the commit's flush) are then shared by more events exactly
    /// when the database is the bottleneck, without holding any batch back while it is not.
    /// </summary>
    public async Task<StoreResult> StoreAsync(IReadOnlyList<IngestItem> items, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
            return StoreResult.Empty;
        var batch = new PendingBatch(items, Activity.Current?.Context ?? default, Stopwatch.GetTimestamp());
        lock (waiting)
        {
            waiting.AddLast(batch.Node);
            metrics.BatchesWaiting(waiting.Count);
        }
        try
        {
            await concurrency.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (waiting)
            {
                if (batch.Node.List is not null)
                    waiting.Remove(batch.Node);
                metrics.BatchesWaiting(waiting.Count);
            }
            throw;
        }
        try
        {
            while (!batch.Stored.Task.IsCompleted && TakeGroup() is { Count: > 0 } group)
                await StoreGroupAsync(group);
        }
        finally
        {
            concurrency.Release();
        }
        return await batch.Stored.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The oldest waiting batches, as many as fit in one transaction (always at least one).</summary>
    private List<PendingBatch> TakeGroup()
    {
        var group = new List<PendingBatch>();
        var events = 0;
        lock (waiting)
        {
            while (waiting.First is { } first && (group.Count == 0 || events + first.Value.Items.Count <= maxEventsPerTransaction))
            {
                waiting.RemoveFirst();
                group.Add(first.Value);
                events += first.Value.Items.Count;
            }
            metrics.BatchesWaiting(waiting.Count);
        }
        return group;
    }

    /// <summary>
    /// Stores the group and answers each of its requests. Not cancelled by any one request: the others wait for it, and a
    /// client that went away retries with the same keys.
    /// </summary>
    private async Task StoreGroupAsync(List<PendingBatch> group)
    {
        try
        {
            var results = await StoreTogetherAsync(group);
            for (var i = 0; i < group.Count; i++)
                group[i].Stored.TrySetResult(results[i]);
        }
        catch (Exception ex) when (group.Count > 1)
        {
            // What the database refused may be one batch's: each is stored alone, so only its sender sees the error and
            // the others are not held hostage by it.
            LogGroupFailed(ex, group.Count);
            foreach (var batch in group)
                await StoreGroupAsync([batch]);
        }
        catch (Exception ex) when (DataError(ex) is { } refused)
        {
            LogBatchRefused(refused.SqlState, refused.MessageText, group[0].Items.Count);
            group[0].Stored.TrySetResult(await StoreIsolatingAsync(group[0], refused));
        }
        catch (Exception ex)
        {
            group[0].Stored.TrySetException(ex);
        }
    }

    /// <summary>
    /// Stores a batch the database refused as data by halves, down to the events it refuses alone: those are rejected
    /// with its reason, every other event is stored. Validation at the edge should leave nothing to find here; this keeps
    /// one event the validation missed from costing its neighbours (and the Sidecar's lane) their delivery.
    /// </summary>
    private async Task<StoreResult> StoreIsolatingAsync(PendingBatch batch, PostgresException refused)
    {
        if (batch.Items.Count == 1)
        {
            var culprit = batch.Items[0];
            LogEventRefused(culprit.Event.IdempotencyKey, refused.SqlState, refused.MessageText);
            metrics.RecordRejected(1);
            return new StoreResult(0, 0, [new RejectedEvent(culprit.Index, RejectionCodes.Invalid,
                $"the database refused this event: {refused.MessageText} (SQLSTATE {refused.SqlState})")]);
        }
        var half = batch.Items.Count / 2;
        var result = StoreResult.Empty;
        foreach (var part in new[] { batch.Items.Take(half).ToList(), batch.Items.Skip(half).ToList() })
        {
            var partBatch = new PendingBatch(part, batch.RequestContext, batch.Started);
            try
            {
                result = result.Plus((await StoreTogetherAsync([partBatch]))[0]);
            }
            catch (Exception ex) when (DataError(ex) is { } partRefused)
            {
                result = result.Plus(await StoreIsolatingAsync(partBatch, partRefused));
            }
        }
        return result;
    }

    /// <summary>
    /// The database refusing the data itself (class 22 data exception, 23 integrity other than the key claim's unique
    /// violation, 54 program limit): the same events would be refused again, unlike a lost connection or a deadlock.
    /// </summary>
    internal static PostgresException? DataError(Exception exception) => exception switch
    {
        PostgresException { SqlState: var state } pg when state.StartsWith("22", StringComparison.Ordinal)
            || (state.StartsWith("23", StringComparison.Ordinal) && state != PostgresErrorCodes.UniqueViolation)
            || state.StartsWith("54", StringComparison.Ordinal) => pg,
        { InnerException: { } inner } => DataError(inner),
        _ => null,
    };

    private async Task<StoreResult[]> StoreTogetherAsync(List<PendingBatch> group)
    {
        var started = Stopwatch.GetTimestamp();
        var events = group.SelectMany(b => b.Items).ToList();
        // Child of the first request's span; linked to the other requests' and to every event's context.
        using var span = LocalApiTelemetry.Source.StartActivity("ingest.batch", ActivityKind.Internal, group[0].RequestContext,
            links: EventTraceContext.Links(group.Skip(1).Select(b => b.RequestContext == default ? (ActivityContext?)null : b.RequestContext)
                .Concat(events.Select(i => EventTraceContext.FromMetadata(i.Event)))));
        span?.SetTag("wafermonitor.events", events.Count);
        span?.SetTag("wafermonitor.requests", group.Count);

        // A key's first occurrence in the group is the one stored; any later one, in the same batch or a later one, is a
        // duplicate, counted for the batch it came in.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var owned = new List<List<IngestItem>>(group.Count);
        foreach (var batch in group)
        {
            var firsts = new List<IngestItem>(batch.Items.Count);
            foreach (var item in batch.Items)
            {
                if (seen.Add(item.Event.IdempotencyKey))
                    firsts.Add(item);
            }
            owned.Add(firsts);
        }

        using var unique = new PreparedEvents(owned.SelectMany(o => o).ToList(), fingerprint);
        var (claimed, stored) = await StoreUniqueAsync(unique, CancellationToken.None);
        foreach (var job in stored?.FinishedJobs ?? [])
        {
            metrics.JobFinished(job.App, job.Status, job.DurationSeconds);
            LogJobFinished(job.JobId, job.SiteId, job.App, job.Status, job.DurationSeconds);
        }

        var results = new StoreResult[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            var accepted = claimed is null ? owned[i] : owned[i].Where(item => claimed.Contains(item.Event.IdempotencyKey)).ToList();
            var duplicates = group[i].Items.Count - accepted.Count;
            metrics.RecordBatch(accepted, duplicates, Stopwatch.GetElapsedTime(group[i].Started));
            results[i] = new StoreResult(accepted.Count, duplicates, []);
        }
        var acceptedTotal = results.Sum(r => r.Accepted);
        LogBatchStored(acceptedTotal, events.Count - acceptedTotal, group.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
        span?.SetTag("wafermonitor.accepted", acceptedTotal);
        span?.SetTag("wafermonitor.duplicates", events.Count - acceptedTotal);
        return results;
    }

    /// <returns>
    /// The keys this transaction claimed when some had been stored before (null when all were new), and what the round trip
    /// before the COPY answered (null when nothing was new).
    /// </returns>
    private async Task<(HashSet<string>? Claimed, UpsertResult? Stored)> StoreUniqueAsync(PreparedEvents unique, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Before the batch's transaction, in its own: the app registry needs no atomicity with the events, and a row
        // lock taken inside would be held until the batch commits.
        await db.MeasureAsync("upsert", "app", () => UpsertAppsAsync(connection, unique.Items.Select(i => i.Event), cancellationToken));
        // Sorted so concurrent batches sharing keys wait on each other in one order instead of deadlocking.
        var keys = unique.Items.Select(i => i.Event.IdempotencyKey).Order(StringComparer.Ordinal).ToArray();
        var keyIds = keys.Select(EventKeyIds.Of).ToArray();
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        PreparedEvents? subset = null;
        try
        {
            var fresh = unique;
            HashSet<string>? claimed = null;
            var stored = await db.MeasureAsync("upsert", "projections", () => UpsertAsync(connection, keyIds, unique, cancellationToken));
            if (stored is null)
            {
                // A key was stored before, which aborted the transaction: claim in a new one only the keys not stored
                // before, and fold and copy only their events.
                await transaction.DisposeAsync();
                transaction = await connection.BeginTransactionAsync(cancellationToken);
                claimed = await db.MeasureAsync("insert", "event_key", () => ClaimNewKeysAsync(connection, keys, keyIds, cancellationToken));
                fresh = subset = new PreparedEvents(unique.Items.Where(i => claimed.Contains(i.Event.IdempotencyKey)).ToList(), fingerprint);
                if (fresh.Items.Count > 0)
                    stored = await db.MeasureAsync("upsert", "projections", () => UpsertAsync(connection, claimKeys: null, fresh, cancellationToken));
            }
            if (stored is not null)
            {
                await db.MeasureAsync("copy", "event", () => CopyEventsAsync(connection, fresh.Rows, stored, cancellationToken));
                await db.MeasureAsync("await", "earlier_tickets", () => AwaitEarlierTicketsAsync(connection, stored.LastSeq, cancellationToken));
            }
            await db.MeasureAsync("commit", "event", () => transaction.CommitAsync(cancellationToken));
            return (claimed, stored);
        }
        finally
        {
            subset?.Dispose();
            await transaction.DisposeAsync();
        }
    }

    /// <summary>A request's batch, waiting to be taken into a transaction and then answered.</summary>
    private sealed class PendingBatch
    {
        public PendingBatch(IReadOnlyList<IngestItem> items, ActivityContext requestContext, long started)
        {
            Items = items;
            RequestContext = requestContext;
            Started = started;
            Node = new LinkedListNode<PendingBatch>(this);
        }

        public IReadOnlyList<IngestItem> Items { get; }
        public ActivityContext RequestContext { get; }
        public long Started { get; }
        public LinkedListNode<PendingBatch> Node { get; }
        public TaskCompletionSource<StoreResult> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>What the batch's one round trip before its COPY answered.</summary>
    private sealed record UpsertResult(DateTime IngestedAt, IReadOnlyList<FinishedJob> FinishedJobs, long LastSeq);

    /// <summary>
    /// In one round trip: claims every key (when <paramref name="claimKeys"/> is given), upserts the job and subjob
    /// projections, inserts the failures' error occurrences, reserves the rows' seqs as one block with a commit-order
    /// ticket, and announces the new watermark (delivered to listeners when the transaction commits). The claim is a plain insert, not ON CONFLICT, which would
    /// first probe the key index for every row and then descend it again to insert: a batch with a key stored before
    /// fails instead, and is retried with <see cref="ClaimNewKeysAsync"/>.
    /// </summary>
    /// <returns>Null when a key was stored before, which aborted the transaction.</returns>
    private static async Task<UpsertResult?> UpsertAsync(
        NpgsqlConnection connection, Guid[]? claimKeys, PreparedEvents events, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        if (claimKeys is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO event_key (key_id, ingested_at)
                SELECT k, transaction_timestamp() FROM unnest(@keys::uuid[]) WITH ORDINALITY AS t(k, n) ORDER BY n
                """) { Parameters = { new("keys", claimKeys) } });
        }
        var jobs = EntityUpsert("job", events.Jobs);
        var subjobs = EntityUpsert("subjob", events.Subjobs);
        foreach (var upsert in new[] { jobs, subjobs, ErrorOccurrences.Insert(events.Errors) }.OfType<NpgsqlBatchCommand>())
            batch.BatchCommands.Add(upsert);
        // The transaction's start time is the events' ingest time (the partition key), as it is the keys'.
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            SELECT last, transaction_timestamp(), pg_notify('{NotifyChannel}', last::text)
            FROM wm_reserve_event_seqs(@lock, @count) AS last
            """) { Parameters = { new("lock", ReservationLockId), new("count", (long)events.Rows.Count) } });

        // Prepared once per pooled connection (Npgsql keeps prepared statements across pool rentals): the upserts' plans
        // are not made again for every batch.
        await batch.PrepareAsync(cancellationToken);
        NpgsqlDataReader reader;
        try
        {
            reader = await batch.ExecuteReaderAsync(cancellationToken);
        }
        catch (PostgresException ex) when (claimKeys is not null && ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }
        await using (reader)
        {
            // The key claim, the subjob upsert and the error occurrences' insert return no rows and so have no result sets.
            var finished = new List<FinishedJob>();
            if (jobs is not null)
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var wasRunning = reader.IsDBNull(1) || reader.GetString(1) == EntityStatuses.Running;
                    var status = reader.GetString(2);
                    if (wasRunning && status != EntityStatuses.Running)
                        finished.Add(new FinishedJob(reader.GetGuid(4), reader.GetString(5), reader.GetString(0), status, reader.IsDBNull(3) ? null : reader.GetDouble(3)));
                }
                await reader.NextResultAsync(cancellationToken);
            }
            await reader.ReadAsync(cancellationToken);
            return new UpsertResult(reader.GetDateTime(1), finished, reader.GetInt64(0));
        }
    }

    /// <param name="keyIds">The <see cref="EventKeyIds"/> of <paramref name="keys"/>, in the same order.</param>
    /// <returns>The keys not stored before, now claimed by this batch.</returns>
    private static async Task<HashSet<string>> ClaimNewKeysAsync(NpgsqlConnection connection, string[] keys, Guid[] keyIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO event_key (key_id, ingested_at)
            SELECT k, transaction_timestamp() FROM unnest(@keys::uuid[]) WITH ORDINALITY AS t(k, n) ORDER BY n
            ON CONFLICT DO NOTHING
            RETURNING key_id
            """, connection);
        command.Parameters.AddWithValue("keys", keyIds);
        // Two keys of one batch with one id are one key: the first claims it, the other is its duplicate.
        var keyOfId = new Dictionary<Guid, string>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
            keyOfId.TryAdd(keyIds[i], keys[i]);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claimed.Add(keyOfId[reader.GetGuid(0)]);
        return claimed;
    }

    private sealed record FinishedJob(Guid JobId, string SiteId, string App, string Status, double? DurationSeconds);

    private static async Task<int> UpsertAppsAsync(NpgsqlConnection connection, IEnumerable<WireEvent> events, CancellationToken cancellationToken)
    {
        var apps = events.GroupBy(e => e.App.AppId)
            .Select(g => g.MaxBy(e => e.Event.At)!.App)
            .OrderBy(a => a.AppId)
            .ToList();
        // Every batch of an app would otherwise update its one row, and concurrent batches would queue on its row lock.
        // Rows already current (same name and version, seen within the last minute) are filtered out by a plain read,
        // so only a change or a stale last_seen_at writes.
        await using var command = new NpgsqlCommand("""
            INSERT INTO app AS a (app_id, name, version)
            SELECT n.app_id, n.name, n.version FROM unnest(@ids::uuid[], @names::text[], @versions::text[]) AS n(app_id, name, version)
            WHERE NOT EXISTS (
                SELECT FROM app c WHERE c.app_id = n.app_id AND c.name = n.name AND c.version = n.version
                  AND c.last_seen_at > now() - interval '1 minute')
            ON CONFLICT (app_id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version, last_seen_at = now()
            """, connection);
        command.Parameters.AddWithValue("ids", apps.Select(a => a.AppId).ToArray());
        command.Parameters.AddWithValue("names", apps.Select(a => a.Name).ToArray());
        command.Parameters.AddWithValue("versions", apps.Select(a => a.Version).ToArray());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The upsert of a batch's folds into <paramref name="table"/>; null when there are none.</summary>
    /// <remarks>For jobs, it returns each row's previous and new status, so the caller sees which jobs became terminal
    /// in this batch (once per job: running or new → terminal).</remarks>
    private static NpgsqlBatchCommand? EntityUpsert(string table, IReadOnlyList<EntityFold> folds)
    {
        if (folds.Count == 0)
            return null;
        var isJob = table == "job";
        var idColumn = isJob ? "job_id" : "subjob_id";
        var keyColumn = isJob ? "job_key" : "sub_key";
        var parentColumns = isJob ? "" : "job_id, ";
        var parentValues = isJob ? "" : "@parents::uuid[], ";
        const string newer = "(EXCLUDED.winner_at IS NOT NULL AND (t.winner_at IS NULL OR (EXCLUDED.winner_at, EXCLUDED.winner_key) > (t.winner_at, t.winner_key)))";
        var sql = $"""
            INSERT INTO {table} AS t ({idColumn}, {parentColumns}site_id, app_id, app_name, app_version, {keyColumn},
                first_started_at, first_any_at, winner_at, winner_key, winner_status, winner_duration_s, cpu_user_s, cpu_system_s,
                mem_max_mb, metadata, metadata_stamps, last_event_at)
            SELECT * FROM unnest(@ids::uuid[], {parentValues}@sites::text[], @app_ids::uuid[], @app_names::text[], @app_versions::text[],
                @keys::text[], @first_started::timestamptz[], @first_any::timestamptz[], @winner_at::timestamptz[],
                @winner_key::text[], @winner_status::text[], @winner_duration::float8[], @cpu_user::float8[], @cpu_system::float8[],
                @mem_max::float8[], @metadata::jsonb[], @stamps::jsonb[], @last_event::timestamptz[])
            ON CONFLICT ({idColumn}) DO UPDATE SET
                {keyColumn} = COALESCE(t.{keyColumn}, EXCLUDED.{keyColumn}),
                first_started_at = LEAST(t.first_started_at, EXCLUDED.first_started_at),
                first_any_at = LEAST(t.first_any_at, EXCLUDED.first_any_at),
                winner_at = CASE WHEN {newer} THEN EXCLUDED.winner_at ELSE t.winner_at END,
                winner_status = CASE WHEN {newer} THEN EXCLUDED.winner_status ELSE t.winner_status END,
                winner_duration_s = CASE WHEN {newer} THEN EXCLUDED.winner_duration_s ELSE t.winner_duration_s END,
                cpu_user_s = CASE WHEN {newer} THEN EXCLUDED.cpu_user_s ELSE t.cpu_user_s END,
                cpu_system_s = CASE WHEN {newer} THEN EXCLUDED.cpu_system_s ELSE t.cpu_system_s END,
                winner_key = CASE WHEN {newer} THEN EXCLUDED.winner_key ELSE t.winner_key END,
                mem_max_mb = GREATEST(t.mem_max_mb, EXCLUDED.mem_max_mb),
                (metadata, metadata_stamps) = (
                    SELECT CASE WHEN EXCLUDED.metadata_stamps IS NULL THEN t.metadata ELSE m.metadata END,
                           CASE WHEN EXCLUDED.metadata_stamps IS NULL THEN t.metadata_stamps ELSE m.stamps END
                    FROM wm_merge_metadata(t.metadata, t.metadata_stamps, EXCLUDED.metadata, EXCLUDED.metadata_stamps) m),
                last_event_at = GREATEST(t.last_event_at, EXCLUDED.last_event_at),
                updated_at = now(){(isJob ? ",\n                prev_status = t.status" : "")}
            {(isJob ? "RETURNING app_name, prev_status, status, duration_s, job_id, site_id" : "")}
            """;
        var command = new NpgsqlBatchCommand(sql);
        var p = command.Parameters;
        p.AddWithValue("ids", folds.Select(f => f.EntityId).ToArray());
        if (!isJob)
            p.AddWithValue("parents", folds.Select(f => f.ParentId!.Value).ToArray());
        p.AddWithValue("sites", folds.Select(f => f.SiteId).ToArray());
        p.AddWithValue("app_ids", folds.Select(f => f.App.AppId).ToArray());
        p.AddWithValue("app_names", folds.Select(f => f.App.Name).ToArray());
        p.AddWithValue("app_versions", folds.Select(f => f.App.Version).ToArray());
        p.Add(Array("keys", folds.Select(f => f.Key).ToArray(), NpgsqlDbType.Text));
        p.Add(Array("first_started", folds.Select(f => f.FirstStartedAt).ToArray(), NpgsqlDbType.TimestampTz));
        p.AddWithValue("first_any", folds.Select(f => f.FirstAnyAt).ToArray());
        p.Add(Array("winner_at", folds.Select(f => f.Winner?.At).ToArray(), NpgsqlDbType.TimestampTz));
        p.Add(Array("winner_key", folds.Select(f => f.Winner?.Key).ToArray(), NpgsqlDbType.Text));
        p.Add(Array("winner_status", folds.Select(f => f.Winner?.Status).ToArray(), NpgsqlDbType.Text));
        p.Add(Array("winner_duration", folds.Select(f => f.Winner?.DurationS).ToArray(), NpgsqlDbType.Double));
        p.Add(Array("cpu_user", folds.Select(f => f.Winner?.CpuUserS).ToArray(), NpgsqlDbType.Double));
        p.Add(Array("cpu_system", folds.Select(f => f.Winner?.CpuSystemS).ToArray(), NpgsqlDbType.Double));
        p.Add(Array("mem_max", folds.Select(f => f.MemMaxMb).ToArray(), NpgsqlDbType.Double));
        p.Add(Array("metadata", folds.Select(f => f.Metadata?.ToJsonString()).ToArray(), NpgsqlDbType.Text));
        p.Add(Array("stamps", folds.Select(f => f.MetadataStamps?.ToJsonString()).ToArray(), NpgsqlDbType.Text));
        p.AddWithValue("last_event", folds.Select(f => f.LastEventAt).ToArray());
        return command;
    }

    private static NpgsqlParameter Array<T>(string name, T[] values, NpgsqlDbType elementType) =>
        new(name, NpgsqlDbType.Array | elementType) { Value = values };

    /// <summary>Sends the batch's rows, stamped with their seqs and ingest time.</summary>
    private static async Task CopyEventsAsync(
        NpgsqlConnection connection, EventCopyRows rows, UpsertResult stored, CancellationToken cancellationToken)
    {
        rows.Stamp(stored.LastSeq - rows.Count + 1, stored.IngestedAt);
        await using (var copy = await connection.BeginRawBinaryCopyAsync(EventCopyRows.CopyCommand, cancellationToken))
            await copy.WriteAsync(rows.Bytes, cancellationToken);
    }

    /// <summary>Returns once every transaction that reserved seqs before this one has committed or rolled back.</summary>
    private static async Task AwaitEarlierTicketsAsync(NpgsqlConnection connection, long ticket, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT wm_await_earlier_tickets(@ticket)", connection);
        command.Parameters.AddWithValue("ticket", ticket);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Placeholders in snake_case: they become the JSON log line's property names, as in the seed's example.
    [LoggerMessage(EventName = "job_finished", Level = LogLevel.Information,
        Message = "Job {job_id} of {app} at site {site_id} finished {status} after {duration_s} s")]
    private partial void LogJobFinished(Guid job_id, string site_id, string app, string status, double? duration_s);

    [LoggerMessage(EventName = "batch_stored", Level = LogLevel.Debug,
        Message = "Stored {accepted} events ({duplicates} duplicates) of {requests} requests in {duration_s} s")]
    private partial void LogBatchStored(int accepted, int duplicates, int requests, double duration_s);

    [LoggerMessage(EventName = "batch_refused", Level = LogLevel.Warning,
        Message = "The database refused a batch of {events} events ({sqlstate}: {reason}); storing it by halves to find the events it refuses")]
    private partial void LogBatchRefused(string sqlstate, string reason, int events);

    [LoggerMessage(EventName = "event_refused", Level = LogLevel.Warning,
        Message = "The database refused event {idempotency_key} ({sqlstate}: {reason}); rejected as invalid")]
    private partial void LogEventRefused(string idempotency_key, string sqlstate, string reason);

    [LoggerMessage(EventName = "batch_group_failed", Level = LogLevel.Warning,
        Message = "Storing {requests} requests' batches together failed; storing each alone")]
    private partial void LogGroupFailed(Exception exception, int requests);
}
