using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>The read API of DESIGN.md §4.5 against real PostgreSQL.</summary>
[Collection(FabCollection.Name)]
public sealed class QueryTests(FabFixture fab)
{
    private static AppRef UniqueApp(string prefix) => new(Guid.NewGuid(), $"{prefix}-{Guid.NewGuid():N}", "1.0.0");

    private static Guid[] Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("job_id").GetGuid()).ToArray();

    [Fact]
    public async Task Every_filter_alone_and_combined()
    {
        using var client = fab.Client("localapi-fab1");
        var app = UniqueApp("Filter-App");
        var t = DateTimeOffset.Parse("2026-06-01T00:00:00Z");
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();
        // One batch each: within a batch, rows are stored in entity-id order, so posting order decides only across batches.
        WireEvent[] events =
        [
            Events.Job(ids[0], EventKinds.Started, t, app: app, businessKey: "lot-a"),
            Events.Job(ids[1], EventKinds.Finished, t.AddHours(1), app: app, businessKey: "lot-b", status: "succeeded"),
            Events.Job(ids[2], EventKinds.Error, t.AddHours(2), app: app, businessKey: "lot-a"),
            Events.Job(ids[3], EventKinds.Canceled, t.AddHours(3), app: app, businessKey: "lot-c"),
            Events.Job(ids[4], EventKinds.Finished, t.AddHours(4), app: app, businessKey: "lot-a", status: "failed"),
        ];
        foreach (var e in events)
            await Events.PostBatchAsync(client, [e]);
        var name = Uri.EscapeDataString(app.Name[7..].ToUpperInvariant());
        async Task<Guid[]> Query(string query) => Ids(await client.GetFromJsonAsync<JsonElement>($"/v1/jobs?app_name={name}&{query}"));

        Assert.Equal(ids.Reverse(), await Query(""));
        Assert.Equal([ids[4], ids[2]], await Query("status=failed"));
        Assert.Equal([ids[4], ids[3], ids[2]], await Query("status=failed,canceled"));
        Assert.Equal([ids[4], ids[2], ids[0]], await Query("business_key=lot-a"));
        Assert.Equal([ids[3], ids[2], ids[1]], await Query($"from={Uri.EscapeDataString(t.AddHours(1).ToString("O"))}&to={Uri.EscapeDataString(t.AddHours(4).ToString("O"))}"));
        Assert.Equal([ids[4], ids[2]], await Query($"business_key=lot-a&status=failed&from={Uri.EscapeDataString(t.AddMinutes(1).ToString("O"))}"));
        Assert.Empty(await Query("business_key=lot-z"));
        Assert.Equal([ids[4]], await Query("limit=1"));
    }

    [Fact]
    public async Task Paging_while_events_arrive_shows_every_existing_row_exactly_once_newest_first()
    {
        using var client = fab.Client("localapi-fab1");
        var app = UniqueApp("paging");
        var existing = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid()).ToList();
        foreach (var chunk in existing.Chunk(100))
            await Events.PostBatchAsync(client, chunk.Select(id => Events.Job(id, EventKinds.Started, DateTimeOffset.UtcNow.AddMinutes(-1), app: app)));

        using var writer = fab.Client("localapi-fab1");
        using var stop = new CancellationTokenSource();
        var inserting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid())
                    .SelectMany(id => new[] { Events.Job(id, EventKinds.Started, DateTimeOffset.UtcNow, app: app) })
                    .Concat(existing.Take(5).Select(id => Events.Job(id, EventKinds.Progress, DateTimeOffset.UtcNow, app: app)));
                await Events.PostBatchAsync(writer, batch);
            }
        });

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>(
                $"/v1/jobs?app_name={app.Name}&limit=37" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(Ids(page));
            Assert.Equal(page.GetProperty("items").GetArrayLength(), page.GetProperty("count").GetInt32());
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        await stop.CancelAsync();
        await inserting;

        Assert.Equal(seen.Count, seen.Distinct().Count());
        var seenExisting = seen.Where(existing.Contains).ToList();
        Assert.Equal(existing.Count, seenExisting.Count);
        // Newest first: the last batch posted comes first; within a batch the order is by job id.
        var batchOf = existing.Select((id, i) => (id, batch: i / 100)).ToDictionary(x => x.id, x => x.batch);
        Assert.Equal(seenExisting.Select(id => batchOf[id]).OrderByDescending(b => b), seenExisting.Select(id => batchOf[id]));
    }

    [Theory]
    [InlineData("/v1/jobs?limit=0", "limit")]
    [InlineData("/v1/jobs?limit=10001", "limit")]
    [InlineData("/v1/jobs?limit=ten", "limit")]
    [InlineData("/v1/jobs?from=yesterday", "from")]
    [InlineData("/v1/jobs?to=2026-13-45", "to")]
    [InlineData("/v1/jobs?status=done", "status")]
    [InlineData("/v1/jobs?cursor=garbage!", "cursor")]
    [InlineData("/v1/jobs?cursor=czE6LTE", "cursor")]
    [InlineData("/v1/subjobs?job_id=42", "job_id")]
    [InlineData("/v1/jobs/not-a-uuid", "job id")]
    [InlineData("/v1/stats?bucket=soon", "soon")]
    [InlineData("/v1/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "before")]
    [InlineData("/v1/stats?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=1s", "buckets")]
    public async Task Bad_parameters_are_400_problems_naming_the_parameter(string path, string named)
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(named, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_unknown_job_is_a_404_problem()
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.GetAsync($"/v1/jobs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Job_detail_has_subjobs_counts_and_events_in_the_wire_format()
    {
        using var client = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddMinutes(-3);
        var started = Events.Job(jobId, EventKinds.Started, at, businessKey: "detail");
        await Events.PostBatchAsync(client,
        [
            started,
            Events.Subjob(Guid.NewGuid(), jobId, EventKinds.Finished, at.AddSeconds(1), status: "succeeded", subKey: "wafer-01"),
            Events.Subjob(Guid.NewGuid(), jobId, EventKinds.Error, at.AddSeconds(2), subKey: "wafer-02"),
            Events.Subjob(Guid.NewGuid(), jobId, EventKinds.Started, at.AddSeconds(3), subKey: "wafer-03"),
        ]);
        var detail = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        var counts = detail.GetProperty("job").GetProperty("subjobs");
        Assert.Equal((3, 1, 1, 1), (counts.GetProperty("total").GetInt32(), counts.GetProperty("running").GetInt32(),
            counts.GetProperty("succeeded").GetInt32(), counts.GetProperty("failed").GetInt32()));
        Assert.Equal(["wafer-01", "wafer-02", "wafer-03"], detail.GetProperty("subjobs").EnumerateArray().Select(s => s.GetProperty("sub_key").GetString()).Order());
        var storedEvent = Assert.Single(detail.GetProperty("events").EnumerateArray());
        Assert.Equal(started.IdempotencyKey, storedEvent.GetProperty("idempotency_key").GetString());
        Assert.Equal("started", storedEvent.GetProperty("event").GetProperty("kind").GetString());

        var subjobs = await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?job_id={jobId}&status=failed");
        Assert.Equal("wafer-02", Assert.Single(subjobs.GetProperty("items").EnumerateArray()).GetProperty("sub_key").GetString());
    }

    [Fact]
    public async Task Stats_match_hand_computed_values_on_a_fixed_data_set()
    {
        using var client = fab.Client("localapi-fab1");
        var alpha = UniqueApp("stats-alpha");
        var beta = UniqueApp("stats-beta");
        var t = DateTimeOffset.Parse("2020-03-01T10:00:00Z");
        var runningId = Guid.NewGuid();
        WireEvent Done(AppRef app, int minute, string kind, string? status, double duration, double cpu, double mem) =>
            Events.Job(Guid.NewGuid(), kind, t.AddMinutes(minute), status: status, app: app,
                metrics: new() { ["duration_s"] = duration, ["cpu_user_s"] = cpu, ["mem_max_mb"] = mem });
        await Events.PostBatchAsync(client,
        [
            Done(alpha, 0, EventKinds.Finished, "succeeded", 10, 1, 100),
            Done(alpha, 1, EventKinds.Finished, "succeeded", 20, 2, 200),
            Done(alpha, 6, EventKinds.Finished, "failed", 30, 3, 300),
            Done(alpha, 7, EventKinds.Finished, "succeeded", 40, 4, 400),
            Done(beta, 11, EventKinds.Canceled, null, 5, 0.5, 50),
            Events.Job(runningId, EventKinds.Started, t.AddMinutes(12), app: beta),
        ]);
        var range = $"from={Uri.EscapeDataString(t.ToString("O"))}&to={Uri.EscapeDataString(t.AddMinutes(15).ToString("O"))}";
        var stats = await client.GetFromJsonAsync<JsonElement>($"/v1/stats?{range}&bucket=5m");

        var counts = stats.GetProperty("counts");
        Assert.Equal((1, 3, 1, 1, 6), (counts.GetProperty("running").GetInt64(), counts.GetProperty("succeeded").GetInt64(),
            counts.GetProperty("failed").GetInt64(), counts.GetProperty("canceled").GetInt64(), counts.GetProperty("total").GetInt64()));
        Assert.Equal(300, stats.GetProperty("bucket_seconds").GetInt64());
        var buckets = stats.GetProperty("buckets").EnumerateArray()
            .Select(b => (b.GetProperty("start").GetDateTimeOffset(), b.GetProperty("succeeded").GetInt64(), b.GetProperty("failed").GetInt64(),
                b.GetProperty("canceled").GetInt64(), b.GetProperty("running").GetInt64())).ToArray();
        Assert.Equal([(t, 2, 0, 0, 0), (t.AddMinutes(5), 1, 1, 0, 0), (t.AddMinutes(10), 0, 0, 1, 1)], buckets);

        var perApp = stats.GetProperty("per_app").EnumerateArray().ToDictionary(a => a.GetProperty("app_name").GetString()!);
        var a = perApp[alpha.Name];
        Assert.Equal(4, a.GetProperty("jobs").GetInt64());
        Assert.Equal(0.25, a.GetProperty("failure_rate").GetDouble(), 9);
        Assert.Equal(25, a.GetProperty("duration_s").GetProperty("p50").GetDouble(), 9);
        Assert.Equal(38.5, a.GetProperty("duration_s").GetProperty("p95").GetDouble(), 9);
        Assert.Equal(39.7, a.GetProperty("duration_s").GetProperty("p99").GetDouble(), 9);
        Assert.Equal(2.5, a.GetProperty("cpu_user_s").GetProperty("p50").GetDouble(), 9);
        Assert.Equal(397, a.GetProperty("mem_max_mb").GetProperty("p99").GetDouble(), 9);
        var b = perApp[beta.Name];
        Assert.Equal(0, b.GetProperty("failure_rate").GetDouble());
        Assert.Equal(5, b.GetProperty("duration_s").GetProperty("p50").GetDouble());

        var running = stats.GetProperty("running");
        Assert.Equal(runningId, running.GetProperty("oldest_job_id").GetGuid());
        Assert.True(running.GetProperty("count").GetInt64() >= 1);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint()
    {
        using var client = fab.Client("localapi-fab1");
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/jobs", "/v1/subjobs", "/v1/jobs/{jobId}", "/v1/stats", "/v1/ingest/events", "/v1/ingest/events:batch" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("JobItem", out _));
    }
}
