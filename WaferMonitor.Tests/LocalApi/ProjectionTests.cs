using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>DESIGN.md §4.3: the row is the same whatever order, batching and duplication its events arrive in.</summary>
[Collection(FabCollection.Name)]
public sealed class ProjectionTests(FabFixture fab)
{
    [Fact]
    public async Task Any_arrival_order_with_duplicates_and_competing_terminals_gives_the_same_row()
    {
        using var client = fab.Client("localapi-fab1");
        var random = new Random(20261122);
        var t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).AddDays(-3);
        var rows = new List<JsonElement>();
        for (var run = 0; run < 8; run++)
        {
            var jobId = Guid.NewGuid();
            var subjobId = Guid.NewGuid();
            var tag = Guid.NewGuid().ToString("N");
            WireEvent Job(int n, string kind, int seconds, string? status = null, Dictionary<string, double>? metrics = null, object? metadata = null) =>
                Events.Job(jobId, kind, t0.AddSeconds(seconds), status: status, businessKey: "perm", metrics: metrics, metadata: metadata, key: $"{tag}-{n:D2}");
            var events = new List<WireEvent>
            {
                Job(1, EventKinds.Started, 0, metadata: new { a = 1, b = 1 }),
                Job(2, EventKinds.Progress, 10, metrics: new() { ["mem_max_mb"] = 100 }, metadata: new { b = 2, c = 3 }),
                Job(3, EventKinds.Metric, 20, metrics: new() { ["mem_max_mb"] = 300 }),
                Job(4, EventKinds.Finished, 30, status: "succeeded", metrics: new() { ["duration_s"] = 30, ["cpu_user_s"] = 1 }),
                Job(5, EventKinds.Error, 30, metadata: new { c = 9, error_type = "IOError" }),
                Job(6, EventKinds.Started, -5),
                Events.Subjob(subjobId, jobId, EventKinds.Finished, t0.AddSeconds(12), status: "failed", subKey: "wafer-13"),
            };
            events.Add(events[random.Next(events.Count)]);
            events.Add(events[1]);
            var shuffled = events.OrderBy(_ => random.Next()).ToList();
            for (var offset = 0; offset < shuffled.Count;)
            {
                var size = random.Next(1, 4);
                await Events.PostBatchAsync(client, shuffled.Skip(offset).Take(size));
                offset += size;
            }
            var detail = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
            rows.Add(detail.GetProperty("job"));
            Assert.Equal(7, detail.GetProperty("events").GetArrayLength() + 1);
        }

        var first = rows[0];
        Assert.Equal("failed", first.GetProperty("status").GetString());
        Assert.Equal(t0.AddSeconds(-5), first.GetProperty("started_at").GetDateTimeOffset());
        Assert.Equal(t0.AddSeconds(30), first.GetProperty("ended_at").GetDateTimeOffset());
        Assert.Equal(35, first.GetProperty("duration_s").GetDouble(), 6);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("cpu_user_s").ValueKind);
        Assert.Equal(300, first.GetProperty("mem_max_mb").GetDouble());
        Assert.Equal("""{"a":1,"b":2,"c":9,"error_type":"IOError"}""", Canonical(first.GetProperty("metadata")));
        Assert.Equal(t0.AddSeconds(30), first.GetProperty("last_event_at").GetDateTimeOffset());
        Assert.Equal(1, first.GetProperty("subjobs").GetProperty("failed").GetInt32());
        foreach (var row in rows.Skip(1))
            Assert.Equal(Comparable(first), Comparable(row));
    }

    [Fact]
    public async Task A_subjob_may_arrive_before_its_job()
    {
        using var client = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        await Events.PostBatchAsync(client, [Events.Subjob(Guid.NewGuid(), jobId, EventKinds.Started, at, subKey: "wafer-01")]);
        var subjobs = await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?job_id={jobId}");
        Assert.Equal(1, subjobs.GetProperty("count").GetInt32());

        await Events.PostBatchAsync(client, [Events.Job(jobId, EventKinds.Started, at.AddSeconds(-1), businessKey: "late-parent")]);
        var detail = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        Assert.Equal(1, detail.GetProperty("job").GetProperty("subjobs").GetProperty("running").GetInt32());
    }

    [Theory]
    [InlineData("finished", "failed", "failed")]
    [InlineData("finished", "canceled", "canceled")]
    [InlineData("finished", null, "succeeded")]
    [InlineData("finished", "running", "succeeded")]
    [InlineData("canceled", null, "canceled")]
    [InlineData("error", null, "failed")]
    [InlineData("progress", null, "running")]
    public async Task Terminal_kinds_map_to_statuses(string kind, string? status, string expected)
    {
        using var client = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        await Events.PostBatchAsync(client, [Events.Job(jobId, kind, DateTimeOffset.UtcNow.AddSeconds(-1), status: status)]);
        var detail = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
        Assert.Equal(expected, detail.GetProperty("job").GetProperty("status").GetString());
    }

    private static string Comparable(JsonElement row)
    {
        var copy = System.Text.Json.Nodes.JsonNode.Parse(row.GetRawText())!.AsObject();
        copy.Remove("job_id");
        // Where a row sits in the store order is server-assigned, not projected from its events.
        copy.Remove("stored_at");
        copy.Remove("cursor");
        copy["metadata"] = System.Text.Json.Nodes.JsonNode.Parse(Canonical(row.GetProperty("metadata")));
        return copy.ToJsonString();
    }

    private static string Canonical(JsonElement element) => JsonSerializer.Serialize(
        element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).ToDictionary(p => p.Name, p => p.Value));
}
