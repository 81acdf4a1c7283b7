using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

[Collection(FabCollection.Name)]
public sealed class IngestContractTests(FabFixture fab)
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Fresh(string json) =>
        json.Replace("7b1e0c3a-5d1f-4d0e-9a57-0f5b7e4c2d11", Guid.NewGuid().ToString())
            .Replace("5a3c2e1f-7b9d-4c6e-8f0a-2b4d6e8f0a1c", Guid.NewGuid().ToString());

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task The_exact_v2_json_is_accepted_single_and_in_an_array(string resource)
    {
        using var client = fab.Client(resource);
        using var single = await client.PostAsync("/v1/ingest/events", Json(Fresh(EventParserTests.V2Event)));
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        using var batch = await client.PostAsync("/v1/ingest/events:batch", Json($"[{Fresh(EventParserTests.V2Event)}]"));
        var result = await batch.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options);
        Assert.Equal(1, result!.Accepted);
        Assert.Empty(result.Rejected);
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task Bad_bodies_are_400_or_413_and_an_empty_array_is_200(string resource)
    {
        using var client = fab.Client(resource);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/ingest/events:batch", Json("not json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/ingest/events:batch", Json("{\"a\":1}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/ingest/events", Json("[]"))).StatusCode);
        var tooMany = "[" + string.Join(",", Enumerable.Repeat("{}", 10_001)) + "]";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/v1/ingest/events:batch", Json(tooMany))).StatusCode);
        var tooBig = "[\"" + new string('x', 17 * 1024 * 1024) + "\"]";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/v1/ingest/events:batch", Json(tooBig))).StatusCode);
        var bigEvent = EventParserTests.V2Event.Replace("\"json\"", "\"" + new string('y', 1100 * 1024) + "\"");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/v1/ingest/events", Json(bigEvent))).StatusCode);

        using var empty = await client.PostAsync("/v1/ingest/events:batch", Json("[]"));
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Equal(0, (await empty.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options))!.Accepted);
    }

    [Fact]
    public async Task A_single_invalid_event_is_a_problem_naming_the_field()
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.PostAsync("/v1/ingest/events", Json(EventParserTests.V2Event.Replace("\"job\"", "\"lot\"")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("entity.type", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Valid_neighbours_are_kept_and_each_rejection_has_its_code()
    {
        using var client = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var good = Events.Job(jobId, EventKinds.Started, now.AddMinutes(-1), businessKey: "neighbours");
        var wrongSite = Events.Job(Guid.NewGuid(), EventKinds.Started, now, site: "fab2");
        var future = Events.Job(Guid.NewGuid(), EventKinds.Started, now.AddHours(2));
        var body = JsonSerializer.Serialize(new object[] { wrongSite, good, future }, WireJson.Options)
            .Insert(1, "{\"idempotency_key\": \"x\", \"site_id\": \"fab1\"},");
        using var response = await client.PostAsync("/v1/ingest/events:batch", Json(body));
        var result = (await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options))!;

        Assert.Equal(1, result.Accepted);
        Assert.Equal([(0, "invalid"), (1, "wrong_site"), (3, "future_skew")], result.Rejected.Select(r => (r.Index, r.Code)).ToArray());
        var stored = await client.GetFromJsonAsync<JsonElement>("/v1/jobs?business_key=neighbours");
        Assert.Equal(jobId, stored.GetProperty("items")[0].GetProperty("job_id").GetGuid());
        Assert.Equal(1, stored.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task An_event_with_a_nul_character_is_invalid_and_its_neighbour_is_kept(string resource)
    {
        // PostgreSQL refuses \u0000 in text and jsonb: stored, it would fail the whole batch, and from the Sidecar's
        // spool, every retry of it.
        using var client = fab.Client(resource);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var nul = Events.Job(Guid.NewGuid(), EventKinds.Started, at, metadata: new Dictionary<string, string> { ["note"] = "a\0b" });
        var good = Events.Job(Guid.NewGuid(), EventKinds.Started, at);

        var result = await Events.PostBatchAsync(client, [nul, good]);

        Assert.Equal(1, result.Accepted);
        Assert.Equal((0, "invalid"), (result.Rejected.Single().Index, result.Rejected.Single().Code));
        Assert.Contains("u0000", result.Rejected.Single().Error);
    }

    [Fact]
    public async Task The_same_batch_twice_and_concurrently_counts_once()
    {
        using var first = fab.Client("localapi-fab1");
        using var second = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var batch = Enumerable.Range(0, 200)
            .Select(i => Events.Subjob(Guid.NewGuid(), jobId, EventKinds.Finished, start.AddSeconds(i), status: "succeeded", subKey: $"wafer-{i}"))
            .Prepend(Events.Job(jobId, EventKinds.Started, start, businessKey: "twice"))
            .ToList();

        var results = await Task.WhenAll(Events.PostBatchAsync(first, batch), Events.PostBatchAsync(second, batch));
        var again = await Events.PostBatchAsync(first, batch);

        Assert.Equal(batch.Count, results.Sum(r => r.Accepted));
        Assert.Equal(batch.Count, results.Sum(r => r.Duplicates));
        Assert.Equal((0, batch.Count), (again.Accepted, again.Duplicates));
        var detail = await first.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        Assert.Equal(200, detail.GetProperty("job").GetProperty("subjobs").GetProperty("succeeded").GetInt32());
        Assert.Equal(200, detail.GetProperty("subjobs").GetArrayLength());
        Assert.Equal(1, detail.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task A_stored_event_row_is_the_event_as_sent_and_a_batch_with_some_known_keys_stores_the_rest()
    {
        using var client = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var subjobId = Guid.NewGuid();
        // An offset and sub-microsecond ticks: the row keeps the instant to the microsecond, as timestamptz does.
        var at = new DateTimeOffset(2026, 11, 21, 9, 59, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var job = Events.Job(jobId, EventKinds.Started, at, businessKey: "lot-ß-🙂", key: $"key-ä-{Guid.NewGuid()}",
            metadata: new { recipe = "R-12 ✓", nested = new { depth = 2 } });
        var subjob = Events.Subjob(subjobId, jobId, EventKinds.Progress, at.AddSeconds(1));
        Assert.Equal(2, (await Events.PostBatchAsync(client, [job, subjob])).Accepted);

        var rows = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"), """
            SELECT idempotency_key, site_id, app_id, entity_type, entity_id, parent_id, kind, at, status, payload::text,
                   ingested_at > now() - interval '5 minutes'
            FROM event WHERE entity_id = ANY(@ids) ORDER BY seq
            """, ("ids", new[] { jobId, subjobId }));
        Assert.Equal(2, rows.Count);
        Assert.Equal([job.IdempotencyKey, "fab1", Events.App.AppId, "job", jobId, null, "started"], rows[0][..7]);
        Assert.Equal(at.UtcDateTime.AddTicks(-(at.UtcTicks % 10)), rows[0][7]);
        Assert.Equal("running", rows[0][8]);
        Assert.Equal(true, rows[0][10]);
        Assert.True(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(job, WireJson.Options), JsonNode.Parse((string)rows[0][9]!)));
        Assert.Equal([subjob.IdempotencyKey, "fab1", Events.App.AppId, "subjob", subjobId, jobId, "progress"], rows[1][..7]);
        Assert.Null(rows[1][8]);

        var known = Events.Job(jobId, EventKinds.Finished, at.AddMinutes(1), status: "succeeded");
        var batch = new[] { job, known, subjob };
        var result = await Events.PostBatchAsync(client, batch);
        Assert.Equal((1, 2), (result.Accepted, result.Duplicates));
        var detail = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        Assert.Equal("succeeded", detail.GetProperty("job").GetProperty("status").GetString());
        Assert.Equal(2, detail.GetProperty("events").GetArrayLength());
    }
}
