using System.Net.Http.Json;
using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>
/// Ingest transactions copy their events side by side but commit in the order they reserved their seqs, so a reader of
/// "seq &gt; X" never sees a later seq before an earlier one. A test trigger holds a batch's COPY at a gate (an advisory
/// lock the test holds) on an event with a gate key, so the transactions are caught in flight.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class CommitOrderTests(FabFixture fab)
{
    private const long FirstGate = 7_001;
    private const long FailingGate = 7_002;

    // One transaction per request, three in flight.
    private static readonly Dictionary<string, string> ThreeTransactionsInFlight = new()
    {
        ["LocalApi__MaxConcurrentBatches"] = "3",
        ["LocalApi__MaxEventsPerTransaction"] = "1",
    };

    [Fact]
    public async Task A_transaction_that_reserved_later_commits_only_after_every_earlier_one_ended_even_if_one_between_rolled_back()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: ThreeTransactionsInFlight);
        await Sql.QueryAsync(rig.ConnectionString, $"""
            CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.idempotency_key = 'gate-first' THEN PERFORM pg_advisory_xact_lock_shared({FirstGate}); END IF;
                IF NEW.idempotency_key = 'gate-failing' THEN
                    PERFORM pg_advisory_xact_lock_shared({FailingGate});
                    RAISE EXCEPTION 'refused by the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_gate BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION test_gate();
            """);
        await using var gates = new NpgsqlConnection(rig.ConnectionString);
        await gates.OpenAsync();
        await ExecuteAsync(gates, $"SELECT pg_advisory_lock({FirstGate}), pg_advisory_lock({FailingGate})");
        using var localApi = rig.Client("localapi");
        var first = Batch(rig.Site, "gate-first");
        var failing = Batch(rig.Site, "gate-failing");
        var last = Batch(rig.Site, key: null);

        // Each posted once the one before has reserved its seqs: the first two are held at their gates in their COPY, the
        // last has copied its events and waits for the two before it.
        var firstPost = Post(localApi, first);
        await Events.Eventually(async () => await Sql.AdvisoryWaitsAsync(rig.ConnectionString, keySpace: 1) == 1, "the first batch held at its gate");
        var failingPost = Post(localApi, failing);
        await Events.Eventually(async () => await Sql.AdvisoryWaitsAsync(rig.ConnectionString, keySpace: 1) == 2, "the failing batch held at its gate");
        var lastPost = Post(localApi, last);
        await Events.Eventually(async () => await Sql.AdvisoryWaitsAsync(rig.ConnectionString, keySpace: 2) == 1, "the last batch waiting for earlier tickets");
        Assert.Empty(await StoredAsync(rig));

        // The batch in between rolls back; the last one still waits for the first.
        await ExecuteAsync(gates, $"SELECT pg_advisory_unlock({FailingGate})");
        Assert.Equal(500, await failingPost);
        await Events.Eventually(() => WaitsForTheGatedTicketAsync(rig), "the last batch waiting for the first one's ticket");
        Assert.False(lastPost.IsCompleted);
        Assert.Empty(await StoredAsync(rig));

        await ExecuteAsync(gates, $"SELECT pg_advisory_unlock({FirstGate})");
        var statuses = await Task.WhenAll(firstPost, lastPost);
        Assert.Equal([200, 200], statuses);
        Assert.Equal(first.Concat(last).Select(e => e.IdempotencyKey), await StoredAsync(rig));
    }

    /// <summary>Three job events, the last with <paramref name="key"/> when given.</summary>
    private static List<WireEvent> Batch(string site, string? key)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var batch = Enumerable.Range(0, 2).Select(i => Events.Job(Guid.NewGuid(), EventKinds.Progress, at.AddMilliseconds(i), site: site)).ToList();
        batch.Add(Events.Job(Guid.NewGuid(), EventKinds.Progress, at, site: site, key: key));
        return batch;
    }

    private static async Task<int> Post(HttpClient localApi, List<WireEvent> batch)
    {
        using var response = await localApi.PostAsJsonAsync("/v1/ingest/events:batch", batch, WireJson.Options);
        return (int)response.StatusCode;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Whether a transaction waits for the ticket of the transaction held at <see cref="FirstGate"/>: a wait that can only
    /// end when that one does.
    /// </summary>
    private static async Task<bool> WaitsForTheGatedTicketAsync(SiteRig rig) =>
        (await Sql.QueryAsync(rig.ConnectionString, $"""
            SELECT count(*) FROM pg_locks waiting
            JOIN pg_locks ticket ON ticket.locktype = 'advisory' AND ticket.objsubid = 2 AND ticket.granted AND ticket.mode = 'ExclusiveLock'
                AND ticket.classid = waiting.classid AND ticket.objid = waiting.objid AND ticket.database = waiting.database
            JOIN pg_locks gated ON gated.pid = ticket.pid AND gated.locktype = 'advisory' AND gated.objsubid = 1 AND NOT gated.granted
                AND gated.objid = {FirstGate}
            WHERE waiting.locktype = 'advisory' AND waiting.objsubid = 2 AND NOT waiting.granted
              AND waiting.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """))[0][0] is 1L;

    private static async Task<List<string>> StoredAsync(SiteRig rig) =>
        (await Sql.QueryAsync(rig.ConnectionString, "SELECT idempotency_key FROM event ORDER BY seq")).Select(row => (string)row[0]!).ToList();
}
