using System.Net;
using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Streaming;

/// <summary>The live stream of LocalApi (issue: SSE in commit order, resumable, one listener) on the shared fab.</summary>
[Collection(FabCollection.Name)]
public sealed class StreamTests(FabFixture fab)
{
    private const string LocalApi = "localapi-fab1";

    private Uri Url => fab.Endpoint(LocalApi);

    private string Token => fab.Token(LocalApi);

    private string Database => fab.ConnectionString("monitor-fab1");

    private static void AssertSameInCommitOrder(List<(long Seq, string Key)> stored, List<SseMessage> received)
    {
        Assert.Equal(stored.Select(s => s.Seq), received.Select(m => m.Seq));
        Assert.Equal(stored.Select(s => s.Key), received.Select(m => m.IdempotencyKey));
        Assert.All(received, m => Assert.Equal(m.Seq, m.Json.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Events_stored_after_subscribing_arrive_once_in_commit_order_and_filtered()
    {
        var app = StreamTestKit.UniqueApp();
        var (job, other, wafer1, wafer3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        await using var byJob = await SseClient.ConnectAsync(Url, Token, $"?job_id={job}");
        await using var subjobOutcomes = await SseClient.ConnectAsync(Url, Token, $"?entity_type=subjob&kind=finished,error&app_name={app.Name.ToUpperInvariant()}");
        await using var failed = await SseClient.ConnectAsync(Url, Token, $"?status=failed&app_name={app.Name}");

        var batch1 = new[]
        {
            Events.Job(job, EventKinds.Started, t).For(app),
            Events.Subjob(wafer1, job, EventKinds.Started, t.AddSeconds(1)).For(app),
        };
        // The other job starts and fails in one transaction, so its entity_status is "failed" whenever the feed reads it.
        var batch2 = new[]
        {
            Events.Subjob(wafer1, job, EventKinds.Progress, t.AddSeconds(2)).For(app),
            Events.Job(other, EventKinds.Started, t.AddSeconds(2)).For(app),
            Events.Subjob(wafer1, job, EventKinds.Finished, t.AddSeconds(3), status: EntityStatuses.Succeeded).For(app),
            Events.Job(other, EventKinds.Error, t.AddSeconds(3)).For(app),
        };
        var batch3 = new[] { Events.Job(job, EventKinds.Finished, t.AddSeconds(4), status: EntityStatuses.Succeeded).For(app) };
        var batch4 = new[] { Events.Subjob(wafer3, job, EventKinds.Error, t.AddSeconds(5), subKey: "wafer-03").For(app) };
        using var client = fab.Client(LocalApi);
        foreach (var batch in new[] { batch1, batch2, batch3, batch4 })
            Assert.Equal(batch.Length, (await Events.PostBatchAsync(client, batch)).Accepted);

        var all = batch1.Concat(batch2).Concat(batch3).Concat(batch4).ToList();
        var ofJob = all.Where(e => e.Entity.Id == job || e.Entity.ParentId == job).Select(e => e.IdempotencyKey);
        var expectedByJob = await StreamTestKit.StoredAsync(Database, ofJob);
        Assert.Equal(6, expectedByJob.Count);
        AssertSameInCommitOrder(expectedByJob, await byJob.EventsAsync(expectedByJob.Count));

        var outcomes = await StreamTestKit.StoredAsync(Database, [batch2[2].IdempotencyKey, batch4[0].IdempotencyKey]);
        AssertSameInCommitOrder(outcomes, await subjobOutcomes.EventsAsync(2));

        var expectedFailed = await StreamTestKit.StoredAsync(Database, [batch2[1].IdempotencyKey, batch2[3].IdempotencyKey, batch4[0].IdempotencyKey]);
        var receivedFailed = await failed.EventsAsync(3);
        AssertSameInCommitOrder(expectedFailed, receivedFailed);
        Assert.All(receivedFailed, m => Assert.Equal(EntityStatuses.Failed, m.EntityStatus));

        // Nothing else reached the filtered clients: the next message on each is a marker stored after everything above.
        var marker = Events.Subjob(Guid.NewGuid(), job, EventKinds.Error, t.AddSeconds(6), subKey: "wafer-09").For(app);
        await Events.PostBatchAsync(client, [marker]);
        foreach (var stream in new[] { byJob, subjobOutcomes, failed })
            Assert.Equal(marker.IdempotencyKey, (await stream.EventsAsync(1))[0].IdempotencyKey);
    }

    [Fact]
    public async Task The_message_carries_the_stored_event_in_the_wire_format()
    {
        var app = StreamTestKit.UniqueApp();
        await using var stream = await SseClient.ConnectAsync(Url, Token, $"?app_name={app.Name}");
        var job = Guid.NewGuid();
        var sent = Events.Job(job, EventKinds.Started, DateTimeOffset.UtcNow, businessKey: "lot-77", metadata: new { recipe = "etch-4" }).For(app);
        using var client = fab.Client(LocalApi);
        await Events.PostBatchAsync(client, [sent]);

        var message = (await stream.EventsAsync(1))[0];
        var e = message.Json.GetProperty("event");
        Assert.Equal(sent.IdempotencyKey, e.GetProperty("idempotency_key").GetString());
        Assert.Equal(job, e.GetProperty("entity").GetProperty("id").GetGuid());
        Assert.Equal("lot-77", e.GetProperty("entity").GetProperty("business_key").GetString());
        Assert.Equal(app.Name, e.GetProperty("app").GetProperty("name").GetString());
        Assert.Equal("etch-4", e.GetProperty("event").GetProperty("metadata").GetProperty("recipe").GetString());
        Assert.Equal(EntityStatuses.Running, message.EntityStatus);
    }

    [Fact]
    public async Task Concurrent_batches_from_several_connections_stream_without_gaps_or_duplicates()
    {
        var app = StreamTestKit.UniqueApp();
        await using var stream = await SseClient.ConnectAsync(Url, Token, $"?app_name={app.Name}");
        const int Writers = 6, Batches = 8, PerBatch = 25;
        var keys = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async writer =>
        {
            using var client = fab.Client(LocalApi);
            var job = Guid.NewGuid();
            for (var b = 0; b < Batches; b++)
            {
                var batch = Enumerable.Range(0, PerBatch)
                    .Select(i => Events.Job(job, b == 0 && i == 0 ? EventKinds.Started : EventKinds.Progress,
                        DateTimeOffset.UtcNow.AddSeconds(-60).AddMilliseconds(b * PerBatch + i)).For(app))
                    .ToList();
                Assert.Equal(PerBatch, (await Events.PostBatchAsync(client, batch)).Accepted);
                foreach (var e in batch)
                    keys.Add(e.IdempotencyKey);
            }
        }));

        var received = await stream.EventsAsync(Writers * Batches * PerBatch);
        var seqs = received.Select(m => m.Seq).ToList();
        Assert.True(seqs.Zip(seqs.Skip(1)).All(p => p.First < p.Second), "ids strictly increasing");
        AssertSameInCommitOrder(await StreamTestKit.StoredAsync(Database, keys), received);
    }

    [Fact]
    public async Task Last_event_id_resumes_without_gaps_from_the_header_or_the_query()
    {
        var app = StreamTestKit.UniqueApp();
        var job = Guid.NewGuid();
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        var events = Enumerable.Range(0, 20)
            .Select(i => Events.Job(job, i == 0 ? EventKinds.Started : EventKinds.Progress, t.AddMilliseconds(i)).For(app)).ToList();
        using var client = fab.Client(LocalApi);
        List<SseMessage> first;
        await using (var stream = await SseClient.ConnectAsync(Url, Token, $"?job_id={job}"))
        {
            await Events.PostBatchAsync(client, events[..10]);
            first = await stream.EventsAsync(10);
        }
        await Events.PostBatchAsync(client, events[10..]);
        var stored = await StreamTestKit.StoredAsync(Database, events.Select(e => e.IdempotencyKey));
        AssertSameInCommitOrder(stored[..10], first);

        await using var byHeader = await SseClient.ConnectAsync(Url, Token, $"?job_id={job}", lastEventId: first[4].Id);
        AssertSameInCommitOrder(stored[5..], await byHeader.EventsAsync(15));
        await using var byQuery = await SseClient.ConnectAsync(Url, Token, $"?job_id={job}&last_event_id={first[9].Id}");
        AssertSameInCommitOrder(stored[10..], await byQuery.EventsAsync(10));

        var marker = Events.Job(job, EventKinds.Finished, t.AddSeconds(1), status: EntityStatuses.Succeeded).For(app);
        await Events.PostBatchAsync(client, [marker]);
        Assert.Equal(marker.IdempotencyKey, (await byHeader.EventsAsync(1))[0].IdempotencyKey);
        Assert.Equal(marker.IdempotencyKey, (await byQuery.EventsAsync(1))[0].IdempotencyKey);
    }

    [Fact]
    public async Task The_listener_reconnects_after_its_backend_is_terminated_and_loses_nothing()
    {
        var app = StreamTestKit.UniqueApp();
        var job = Guid.NewGuid();
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        List<WireEvent> Batch(int from) => Enumerable.Range(from, 10)
            .Select(i => Events.Job(job, i == 0 ? EventKinds.Started : EventKinds.Progress, t.AddMilliseconds(i)).For(app)).ToList();
        await using var stream = await SseClient.ConnectAsync(Url, Token, $"?job_id={job}");
        using var client = fab.Client(LocalApi);
        var (before, during, after) = (Batch(0), Batch(10), Batch(20));
        await Events.PostBatchAsync(client, before);
        Assert.Equal(10, (await stream.EventsAsync(10)).Count);
        var reconnects = await StreamTestKit.MetricAsync(client, "stream_listener_reconnects_total");

        var listener = await ListenerPidAsync();
        Assert.NotNull(listener);
        await using (var admin = new NpgsqlConnection(Database))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin);
            terminate.Parameters.AddWithValue("pid", listener.Value);
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }
        await Events.PostBatchAsync(client, during);
        await Events.Eventually(async () => await ListenerPidAsync() is { } pid && pid != listener, "a new listener backend");
        await Events.PostBatchAsync(client, after);

        var stored = await StreamTestKit.StoredAsync(Database, during.Concat(after).Select(e => e.IdempotencyKey));
        AssertSameInCommitOrder(stored, await stream.EventsAsync(20));
        Assert.True(await StreamTestKit.MetricAsync(client, "stream_listener_reconnects_total") > reconnects);
    }

    private async Task<int?> ListenerPidAsync()
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT pid FROM pg_stat_activity
            WHERE application_name = 'wafermonitor-stream-listener' AND datname = current_database()
            """, connection);
        return await command.ExecuteScalarAsync() as int?;
    }

    [Theory]
    [InlineData("?job_id=not-a-uuid", "job_id")]
    [InlineData("?kind=exploded", "kind")]
    [InlineData("?status=running,melted", "status")]
    [InlineData("?entity_type=lot", "entity_type")]
    [InlineData("?last_event_id=-4", "last_event_id")]
    public async Task Bad_filters_are_refused_with_a_problem_naming_the_parameter(string query, string parameter)
    {
        using var client = fab.Client(LocalApi);
        using var response = await client.GetAsync("/v1/stream" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(parameter, await response.Content.ReadAsStringAsync());
    }
}
