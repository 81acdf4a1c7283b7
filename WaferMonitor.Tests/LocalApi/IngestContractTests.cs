using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
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
        Assert.Equal(HttpStatusCode.Accepted, single.StatusCode);
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
}
