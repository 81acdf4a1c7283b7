using System.Text.RegularExpressions;
using System.Net.Http.Json;
using Npgsql;
using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>
/// Batches that queue up while a transaction runs are stored together in the next one. The tests hold LocalApi's
/// seq-reservation lock so that the first batch's transaction waits on it, queue the others behind it (one transaction in
/// flight at a time), then let go.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class IngestGroupingTests(FabFixture fab)
{
    private static readonly Dictionary<string, string> OneTransactionAtATime = new() { ["LocalApi__MaxConcurrentBatches"] = "1" };

    [Fact]
    public async Task Batches_that_queue_up_are_stored_in_one_transaction_and_each_request_gets_its_own_counts()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: OneTransactionAtATime);
        using var localApi = rig.Client("localapi");
        var first = Progress(rig.Site, 10);
        var second = Progress(rig.Site, 10);
        var third = second.Take(5).Concat(Progress(rig.Site, 5)).ToList();
        var fourth = first.Take(3).Concat(Progress(rig.Site, 7)).ToList();

        var results = await WithFirstHeldAsync(rig, localApi, first, [second, third, fourth],
            batch => Events.PostBatchAsync(localApi, batch));

        // The third repeats five of the second's events in the same transaction; the fourth three of the first's, stored
        // before. Each key is counted once, for the batch it first came in.
        Assert.Equal([(10, 0), (10, 0), (5, 5), (7, 3)], results.Select(r => (r.Accepted, r.Duplicates)));
        var transactions = await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event GROUP BY ingested_at ORDER BY min(seq)");
        Assert.Equal([10L, 22L], transactions.Select(row => (long)row[0]!));
        var stored = await Sql.QueryAsync(rig.ConnectionString, "SELECT idempotency_key FROM event ORDER BY seq");
        Assert.Equal(first.Concat(second).Concat(third.Skip(5)).Concat(fourth.Skip(3)).Select(e => e.IdempotencyKey),
            stored.Select(row => (string)row[0]!));
    }

    [Fact]
    public async Task A_batch_the_database_refuses_fails_alone_and_the_batches_queued_with_it_are_stored()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: OneTransactionAtATime);
        using var localApi = rig.Client("localapi");
        await using (var connection = new NpgsqlConnection(rig.ConnectionString))
        {
            await connection.OpenAsync();
            await using var refuse = new NpgsqlCommand("""
                CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.key_id = wm_event_key_id('poison') THEN RAISE EXCEPTION 'refused by the test'; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER refuse_poison BEFORE INSERT ON event_key FOR EACH ROW EXECUTE FUNCTION refuse_poison();
                """, connection);
            await refuse.ExecuteNonQueryAsync();
        }
        var first = Progress(rig.Site, 5);
        var good = Progress(rig.Site, 5);
        var poisoned = Progress(rig.Site, 4).Append(Events.Job(Guid.NewGuid(), EventKinds.Progress, DateTimeOffset.UtcNow, site: rig.Site, key: "poison")).ToList();
        var alsoGood = Progress(rig.Site, 5);

        var statuses = await WithFirstHeldAsync(rig, localApi, first, [good, poisoned, alsoGood], async batch =>
        {
            using var response = await localApi.PostAsJsonAsync("/v1/ingest/events:batch", batch, WireJson.Options);
            return (int)response.StatusCode;
        });

        Assert.Equal([200, 200, 500, 200], statuses);
        var stored = await Sql.QueryAsync(rig.ConnectionString, "SELECT idempotency_key FROM event ORDER BY seq");
        Assert.Equal(first.Concat(good).Concat(alsoGood).Select(e => e.IdempotencyKey), stored.Select(row => (string)row[0]!));
    }

    private static List<WireEvent> Progress(string site, int count)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        return Enumerable.Range(0, count).Select(i => Events.Job(Guid.NewGuid(), EventKinds.Progress, at.AddMilliseconds(i), site: site)).ToList();
    }

    /// <summary>
    /// Posts <paramref name="first"/> while the seq-reservation lock is held, so its transaction waits; then, once it does, each
    /// of <paramref name="queued"/> in turn, each once the one before is waiting in LocalApi (its <c>ingest_batches_waiting</c>
    /// gauge); then lets the lock go.
    /// </summary>
    /// <returns>What <paramref name="post"/> returned, the first batch's result first.</returns>
    private static async Task<T[]> WithFirstHeldAsync<T>(
        SiteRig rig, HttpClient localApi, List<WireEvent> first, List<WireEvent>[] queued, Func<List<WireEvent>, Task<T>> post)
    {
        await using var holder = new NpgsqlConnection(rig.ConnectionString);
        await holder.OpenAsync();
        await AdvisoryAsync(holder, "pg_advisory_lock");
        var posts = new List<Task<T>> { post(first) };
        await Events.Eventually(async () => await Sql.AdvisoryWaitsAsync(rig.ConnectionString, keySpace: 1) == 1,
            "the first batch's transaction waiting for the reservation lock");
        for (var i = 0; i < queued.Length; i++)
        {
            posts.Add(post(queued[i]));
            var waiting = new Regex($@"(?m)^ingest_batches_waiting(\{{\}})? {i + 1}$");
            await Events.Eventually(async () => waiting.IsMatch(await localApi.GetStringAsync("/metrics")), $"ingest_batches_waiting {i + 1}");
        }
        await AdvisoryAsync(holder, "pg_advisory_unlock");
        return await Task.WhenAll(posts);
    }

    private static async Task AdvisoryAsync(NpgsqlConnection connection, string function)
    {
        await using var command = new NpgsqlCommand($"SELECT {function}(@id)", connection);
        command.Parameters.AddWithValue("id", EventStore.ReservationLockId);
        await command.ExecuteNonQueryAsync();
    }
}
