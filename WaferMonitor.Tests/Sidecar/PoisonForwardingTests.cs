using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sidecar;

/// <summary>
/// Defence in depth (issue 19): an event the edge accepted but LocalApi cannot store — here made so by a trigger, as an
/// input the validation misses would be — delays its lane by seconds and is dead-lettered with LocalApi's reason; the
/// valid events behind it on the same lane are delivered.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class PoisonForwardingTests(FabFixture fab)
{
    [Fact]
    public async Task Poison_events_are_isolated_and_dead_lettered_and_the_events_behind_them_delivered()
    {
        await using var rig = await SiteRig.StartAsync(fab, sidecarEnvironment: new Dictionary<string, string> { ["Forwarder__Lanes"] = "1" });
        // A data error LocalApi isolates itself (class 22), and an internal error it cannot tell from its own bug (500).
        await Sql.QueryAsync(rig.ConnectionString, """
            CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.idempotency_key LIKE 'poison-data-%' THEN RAISE EXCEPTION 'refused as data by the test' USING ERRCODE = '22023'; END IF;
                IF NEW.idempotency_key LIKE 'poison-crash-%' THEN RAISE EXCEPTION 'crashes LocalApi in the test' USING ERRCODE = 'XX000'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_poison BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION test_poison();
            """);
        var jobId = Guid.NewGuid();
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        var events = Enumerable.Range(0, 60).Select(i => Events.Job(jobId, i == 0 ? EventKinds.Started : EventKinds.Progress,
            start.AddSeconds(i), site: rig.Site, key: i switch { 20 => $"poison-data-{i}", 40 => $"poison-crash-{i}", _ => $"{jobId:N}-{i:D3}" })).ToList();

        using var sidecar = rig.Client("sidecar");
        // One job, one lane, and the poison in the middle: everything after it waits on it.
        foreach (var chunk in events.Chunk(10))
            Assert.Equal(chunk.Length, (await Events.PostBatchAsync(sidecar, chunk)).Accepted);

        try
        {
            await Events.Eventually(async () => (await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event"))[0][0] is 58L,
                "the 58 valid events delivered past both poison ones", TimeSpan.FromSeconds(60));
        }
        catch (Exception)
        {
            var count = (await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event"))[0][0];
            var spoolState = await sidecar.GetStringAsync("/v1/spool");
            var healthz = await sidecar.GetStringAsync("/v1/healthz");
            Assert.Fail($"stored {count}; spool {spoolState}; health {healthz}");
        }
        await Events.Eventually(async () => (await sidecar.GetFromJsonAsync<JsonElement>("/v1/spool")).GetProperty("dead_letters").GetInt64() == 2,
            "both poison events dead-lettered");
        var letters = (await File.ReadAllLinesAsync(Path.Combine(rig.SpoolDirectory, "dead-letters.jsonl")))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(l => l.GetProperty("event").GetProperty("idempotency_key").GetString()!);
        Assert.Equal("invalid", letters["poison-data-20"].GetProperty("code").GetString());
        Assert.Contains("refused as data by the test", letters["poison-data-20"].GetProperty("error").GetString());
        Assert.Equal("server_error", letters["poison-crash-40"].GetProperty("code").GetString());
        Assert.Contains("500", letters["poison-crash-40"].GetProperty("error").GetString());
        var stored = await Sql.QueryAsync(rig.ConnectionString, "SELECT idempotency_key FROM event ORDER BY seq");
        Assert.Equal(events.Select(e => e.IdempotencyKey).Where(k => !k.StartsWith("poison", StringComparison.Ordinal)), stored.Select(r => (string)r[0]!));

        using var localApi = rig.Client("localapi");
        using var refused = await localApi.PostAsJsonAsync("/v1/ingest/events",
            Events.Job(jobId, EventKinds.Progress, start, site: rig.Site, key: "poison-data-single"), WireJson.Options);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("invalid", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        using var crashed = await localApi.PostAsJsonAsync("/v1/ingest/events",
            Events.Job(jobId, EventKinds.Progress, start, site: rig.Site, key: "poison-crash-single"), WireJson.Options);
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, crashed.StatusCode);
        Assert.Equal("application/problem+json", crashed.Content.Headers.ContentType?.MediaType);

        var health = await sidecar.GetFromJsonAsync<JsonElement>("/v1/healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains("dead-lettered", health.GetProperty("checks").GetProperty("spool").GetProperty("detail").GetString());
        Assert.Matches(@"(?m)^events_dead_lettered_total(\{[^}]*\})? 2$", await sidecar.GetStringAsync("/metrics"));
    }
}
