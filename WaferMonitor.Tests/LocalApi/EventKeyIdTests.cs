using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>Idempotency keys are deduplicated by a 16-byte id (migration 0015): the same key is one event, another key another.</summary>
[Collection(FabCollection.Name)]
public sealed class EventKeyIdTests(FabFixture fab)
{
    private const string Uuid = "7b1e0c3a-5d1f-4d0e-9a57-0f5b7e4c2d11";

    public static TheoryData<string> Keys =>
    [
        Uuid, Uuid.ToUpperInvariant(), "{" + Uuid + "}", Uuid.Replace("-", "", StringComparison.Ordinal), Uuid + " ", "poison",
        "key-ä-🙂", new string('k', 200), "7b1e0c3a-5d1f-4d0e-9a57-0f5b7e4c2d1g",
    ];

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task LocalApi_gives_a_key_the_id_the_database_converted_stored_keys_to(string key)
    {
        var rows = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"), "SELECT wm_event_key_id(@key)", ("key", key));
        Assert.Equal(rows[0][0], EventKeyIds.Of(key));
    }

    [Fact]
    public void A_lowercase_uuid_key_is_its_uuid_and_any_other_key_is_hashed()
    {
        Assert.Equal(Guid.Parse(Uuid), EventKeyIds.Of(Uuid));
        Assert.NotEqual(Guid.Parse(Uuid), EventKeyIds.Of(Uuid.ToUpperInvariant()));
        Assert.NotEqual(EventKeyIds.Of("a"), EventKeyIds.Of("A"));
    }

    [Fact]
    public async Task Keys_that_differ_only_in_case_are_two_events_and_each_sent_again_is_a_duplicate()
    {
        using var localApi = fab.Client("localapi-fab1");
        var lower = Guid.NewGuid().ToString();
        var nonUuid = $"lot-{Guid.NewGuid():N}";
        var keys = new[] { lower, lower.ToUpperInvariant(), nonUuid, nonUuid.ToUpperInvariant() };
        var batch = keys.Select(key => Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, key: key)).ToList();

        var first = await Events.PostBatchAsync(localApi, batch);
        var again = await Events.PostBatchAsync(localApi, batch);
        var oneByOne = await Task.WhenAll(batch.Select(e => Events.PostBatchAsync(localApi, [e])));

        Assert.Equal((4, 0), (first.Accepted, first.Duplicates));
        Assert.Equal((0, 4), (again.Accepted, again.Duplicates));
        Assert.All(oneByOne, result => Assert.Equal((0, 1), (result.Accepted, result.Duplicates)));
        var stored = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"), "SELECT idempotency_key FROM event WHERE idempotency_key = ANY(@keys)",
            ("keys", keys));
        Assert.Equal(keys.Order(), stored.Select(row => (string)row[0]!).Order());
    }
}
