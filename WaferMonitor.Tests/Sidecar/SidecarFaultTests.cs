using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sidecar;

/// <summary>Acknowledged means durable (issue 4), shown with real processes: kills, outages, a full spool, rejections.</summary>
[Collection(FabCollection.Name)]
public sealed class SidecarFaultTests(FabFixture fab)
{
    private static List<WireEvent> Progress(Guid jobId, string site, int count, DateTimeOffset start) =>
        Enumerable.Range(0, count)
            .Select(i => Events.Job(jobId, i == 0 ? EventKinds.Started : EventKinds.Progress, start.AddMilliseconds(i), site: site,
                key: $"{jobId:N}-{i:D6}"))
            .ToList();

    private static async Task<List<string>> StoredKeysInSeqOrderAsync(string connectionString, Guid jobId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT idempotency_key FROM event WHERE entity_id = @id ORDER BY seq", connection);
        command.Parameters.AddWithValue("id", jobId);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            keys.Add(reader.GetString(0));
        return keys;
    }

    private static async Task<JsonElement> SpoolAsync(HttpClient sidecar) => await sidecar.GetFromJsonAsync<JsonElement>("/v1/spool");

    [Fact]
    public async Task Events_acknowledged_before_a_hard_kill_reach_localapi_exactly_once_and_in_order()
    {
        await using var rig = await SiteRig.StartAsync(fab);
        var jobId = Guid.NewGuid();
        var events = Progress(jobId, rig.Site, 3000, DateTimeOffset.UtcNow.AddMinutes(-5));

        await rig.LocalApi.StopForNowAsync();
        using (var sidecar = rig.Client("sidecar"))
        {
            foreach (var chunk in events.Chunk(100))
                Assert.Equal(chunk.Length, (await Events.PostBatchAsync(sidecar, chunk)).Accepted);
            Assert.Equal(3000, (await SpoolAsync(sidecar)).GetProperty("events").GetInt64());
        }
        var restarts = rig.Sidecar.Restarts;
        Process.GetProcessById(rig.Sidecar.ProcessId!.Value).Kill();
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);

        await Events.Eventually(async () => (await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId)).Count >= 3000,
            "every acknowledged event in LocalApi", TimeSpan.FromSeconds(60));
        Assert.True(rig.Sidecar.Restarts > restarts);
        var stored = await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId);
        Assert.Equal(events.Select(e => e.IdempotencyKey), stored);
        using var restarted = rig.Client("sidecar");
        await Events.Eventually(async () => (await SpoolAsync(restarted)).GetProperty("events").GetInt64() == 0, "an empty spool");
    }

    [Fact]
    public async Task Each_jobs_events_keep_spool_order_while_jobs_are_forwarded_on_several_lanes()
    {
        // Small batches, so the spool is forwarded as several stretches whose lanes overlap. LocalApi stores each request
        // in a transaction of its own (no batches that queued up together), so every batch has its own ingest time.
        await using var rig = await SiteRig.StartAsync(fab, sidecarEnvironment: new Dictionary<string, string>
        {
            ["Forwarder__BatchSize"] = "50",
            ["Forwarder__Lanes"] = "4",
        }, localApiEnvironment: new Dictionary<string, string> { ["LocalApi__MaxEventsPerTransaction"] = "1" });
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        var jobs = Enumerable.Range(0, 12).Select(_ => Guid.NewGuid()).ToList();
        // Each job's own events alternate with its subjob's, which must travel on the job's lane.
        var perJob = jobs.ToDictionary(job => job, job =>
        {
            var subjob = Guid.NewGuid();
            return Progress(job, rig.Site, 120, start)
                .Select((e, i) => i % 2 == 0 ? e : Events.Subjob(subjob, job, EventKinds.Progress, start.AddMilliseconds(i), site: rig.Site) with
                {
                    IdempotencyKey = e.IdempotencyKey,
                })
                .ToList();
        });
        // As from many nodes: one event of each job in turn.
        var interleaved = Enumerable.Range(0, 120).SelectMany(i => jobs.Select(job => perJob[job][i])).ToList();

        await rig.LocalApi.StopForNowAsync();
        using (var sidecar = rig.Client("sidecar"))
        {
            foreach (var chunk in interleaved.Chunk(100))
                Assert.Equal(chunk.Length, (await Events.PostBatchAsync(sidecar, chunk)).Accepted);
        }
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);

        await Events.Eventually(async () => (await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event"))[0][0] is 1440L,
            "every event in LocalApi", TimeSpan.FromSeconds(60));
        foreach (var job in jobs)
        {
            var stored = await Sql.QueryAsync(rig.ConnectionString,
                "SELECT idempotency_key FROM event WHERE entity_id = @job OR parent_id = @job ORDER BY seq", ("job", job));
            Assert.Equal(perJob[job].Select(e => e.IdempotencyKey), stored.Select(row => (string)row[0]!));
        }
        // A stretch (4 × 50 events) goes as at most one batch per lane, however unevenly the 12 jobs fill the lanes: 1440
        // events are 8 stretches, or up to 10 if the forwarder read short ones while the first posts arrived. Cut at 50,
        // the lanes holding 4 or more jobs would send two batches per stretch. A batch's events share one ingest time.
        var batchSizes = (await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event GROUP BY ingested_at"))
            .Select(row => (long)row[0]!).ToList();
        Assert.InRange(batchSizes.Count, 8, 40);
        Assert.All(batchSizes, size => Assert.InRange(size, 1, 200));
    }

    [Fact]
    public async Task A_full_spool_refuses_with_503_and_retry_after_and_recovers_once_drained()
    {
        await using var rig = await SiteRig.StartAsync(fab, sidecarEnvironment: new Dictionary<string, string>
        {
            ["Spool__MaxBytes"] = "1048576",
            ["Spool__SegmentBytes"] = "65536",
        });
        await rig.LocalApi.StopForNowAsync();
        using var sidecar = rig.Client("sidecar");
        var jobId = Guid.NewGuid();
        var events = Progress(jobId, rig.Site, 10_000, DateTimeOffset.UtcNow.AddMinutes(-5));
        var acknowledged = 0;
        HttpResponseMessage? refusal = null;
        foreach (var chunk in events.Chunk(100))
        {
            var response = await sidecar.PostAsJsonAsync("/v1/ingest/events:batch", chunk, WireJson.Options);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                refusal = response;
                break;
            }
            response.EnsureSuccessStatusCode();
            acknowledged += chunk.Length;
        }
        Assert.NotNull(refusal);
        Assert.NotNull(refusal.Headers.RetryAfter);
        Assert.InRange(acknowledged, 100, 9_900);
        var degraded = await sidecar.GetFromJsonAsync<JsonElement>("/v1/healthz");
        Assert.Equal("degraded", degraded.GetProperty("status").GetString());

        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        await Events.Eventually(async () => (await SpoolAsync(sidecar)).GetProperty("events").GetInt64() == 0, "the spool to drain",
            TimeSpan.FromSeconds(60));
        var late = events.Skip(acknowledged).Take(100).ToList();
        Assert.Equal(100, (await Events.PostBatchAsync(sidecar, late)).Accepted);
        await Events.Eventually(async () => (await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId)).Count == acknowledged + 100,
            "the acknowledged events and the later batch in LocalApi");
    }

    [Fact]
    public async Task A_413_from_localapi_splits_the_batch_until_it_fits()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Ingest__MaxBatchBytes"] = "65536",
        });
        using var sidecar = rig.Client("sidecar");
        await rig.LocalApi.StopForNowAsync();
        var jobId = Guid.NewGuid();
        var events = Progress(jobId, rig.Site, 1000, DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(1000, (await Events.PostBatchAsync(sidecar, events)).Accepted);
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);

        await Events.Eventually(async () => (await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId)).Count == 1000,
            "all 1000 events stored through split batches", TimeSpan.FromSeconds(60));
        Assert.Equal(events.Select(e => e.IdempotencyKey), await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId));
        Assert.Equal(0, (await SpoolAsync(sidecar)).GetProperty("dead_letters").GetInt64());
    }

    [Fact]
    public async Task Events_localapi_rejects_are_dead_lettered_and_replayed_after_the_fix()
    {
        await using var rig = await SiteRig.StartAsync(fab, sidecarEnvironment: new Dictionary<string, string>
        {
            ["Ingest__MaxFutureSkew"] = "3h",
        });
        using var sidecar = rig.Client("sidecar");
        var jobId = Guid.NewGuid();
        var skewed = Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow.AddHours(1), site: rig.Site);
        var fine = Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, site: rig.Site);
        Assert.Equal(2, (await Events.PostBatchAsync(sidecar, [skewed, fine])).Accepted);

        await Events.Eventually(async () => (await SpoolAsync(sidecar)).GetProperty("dead_letters").GetInt64() == 1, "one dead letter");
        var deadLetters = await File.ReadAllTextAsync(Path.Combine(rig.SpoolDirectory, "dead-letters.jsonl"));
        Assert.Contains("\"code\":\"future_skew\"", deadLetters);
        Assert.Contains(skewed.IdempotencyKey, deadLetters);
        Assert.Empty(await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId));

        // The operator widens LocalApi's tolerance (the fab's clocks are known to be off), then replays.
        await rig.LocalApi.StopForNowAsync();
        rig.LocalApi.WithEnvironment("Ingest__MaxFutureSkew", "3h");
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        using var replay = await sidecar.PostAsync("/v1/spool/dead-letters:replay", null);
        Assert.Equal(1, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requeued").GetInt32());

        await Events.Eventually(async () => (await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId)).Count == 1, "the replayed event stored");
        Assert.Equal(0, (await SpoolAsync(sidecar)).GetProperty("dead_letters").GetInt64());
    }

    [Fact]
    public async Task Without_a_site_id_the_sidecar_accepts_any_site_like_v2_and_localapi_dead_letters_the_mismatch()
    {
        // The rig's Sidecar has no Sidecar:SiteId, as a v2 sidecar had none.
        await using var rig = await SiteRig.StartAsync(fab);
        using var sidecar = rig.Client("sidecar");
        var jobId = Guid.NewGuid();
        var elsewhere = Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow, site: "elsewhere");
        using var response = await sidecar.PostAsJsonAsync("/v1/ingest/events", elsewhere, WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ok").GetBoolean());

        await Events.Eventually(async () => (await SpoolAsync(sidecar)).GetProperty("dead_letters").GetInt64() == 1, "one dead letter");
        var deadLetters = await File.ReadAllTextAsync(Path.Combine(rig.SpoolDirectory, "dead-letters.jsonl"));
        Assert.Contains("\"code\":\"wrong_site\"", deadLetters);
        Assert.Contains(elsewhere.IdempotencyKey, deadLetters);
        Assert.Empty(await StoredKeysInSeqOrderAsync(rig.ConnectionString, jobId));
        // Nothing left to forward; health says an event was dead-lettered (issue 19), so the mismatch gets noticed.
        await Events.Eventually(async () =>
        {
            var health = await sidecar.GetFromJsonAsync<JsonElement>("/v1/healthz");
            return health.GetProperty("spool_count").GetInt64() == 0 && health.GetProperty("status").GetString() == "degraded"
                && health.GetProperty("checks").GetProperty("spool").GetProperty("detail").GetString()!.Contains("(wrong_site)");
        }, "an empty spool and health degraded by the dead letter");
    }
}
