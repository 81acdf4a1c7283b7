using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WaferMonitor.Tests.Fuzz;

/// <summary>
/// Mutated events and batches against a real Sidecar → LocalApi (issue 19): no 5xx; every event the edge acknowledges is
/// stored exactly once and nothing else; every event the contract accepts is acknowledged, whatever its neighbours; the
/// forwarder drains the spool without a dead letter (the edge never acknowledges what LocalApi refuses).
/// Seeded and bounded for CI (<see cref="DefaultEvents"/>); <c>WM_FUZZ_SEED</c> and <c>WM_FUZZ_EVENTS</c> pick another
/// seed or a longer run (docs/benchmarks.md).
/// </summary>
[Collection(FabCollection.Name)]
public sealed class IngestFuzzTests(FabFixture fab, ITestOutputHelper output)
{
    private const int DefaultEvents = 3000;

    [Fact]
    public async Task Mutated_events_never_cost_a_5xx_a_valid_neighbour_or_a_stalled_lane()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("WM_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261202;
        var total = int.TryParse(Environment.GetEnvironmentVariable("WM_FUZZ_EVENTS"), CultureInfo.InvariantCulture, out var n) ? n : DefaultEvents;
        await using var rig = await SiteRig.StartAsync(fab, sidecarChecksSite: true);
        var prefix = $"fz-{seed}-";
        var fuzzer = new EventFuzzer(seed, rig.Site, prefix);
        var random = new Random(seed);
        using var sidecar = rig.Client("sidecar");
        using var localApi = rig.Client("localapi");
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<string>();
        var sent = 0;
        var requests = 0;

        while (sent < total)
        {
            var events = Enumerable.Range(0, random.Next(1, 21)).Select(_ => fuzzer.Next()).ToList();
            sent += events.Count;
            // Mostly through the Sidecar, as fab apps send; some straight to LocalApi, whose edge is the same.
            var client = random.Next(10) == 0 ? localApi : sidecar;
            var target = client == sidecar ? "sidecar" : "localapi";
            requests++;
            if (events.Count == 1 && random.Next(2) == 0)
            {
                using var single = await PostAsync(client, "/v1/ingest/events", events[0].Json);
                var status = (int)single.StatusCode;
                if (status >= 500 || (status is >= 200 and < 300) != events[0].ShouldAccept)
                    failures.Add($"{target} single {events[0].Mutation}: {status} {await single.Content.ReadAsStringAsync()}");
                if (single.IsSuccessStatusCode)
                    acknowledged.Add(events[0].Key);
                continue;
            }
            var body = Join(events);
            using var response = await PostAsync(client, "/v1/ingest/events:batch", body);
            if (!response.IsSuccessStatusCode)
            {
                failures.Add($"{target} batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                continue;
            }
            var result = (await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options))!;
            var rejected = result.Rejected.ToDictionary(r => r.Index);
            for (var i = 0; i < events.Count; i++)
            {
                if (rejected.ContainsKey(i) == events[i].ShouldAccept)
                    failures.Add($"{target} batch {events[i].Mutation}: expected {(events[i].ShouldAccept ? "accepted" : "rejected")}" +
                        (rejected.TryGetValue(i, out var r) ? $", got {r.Code}: {r.Error}" : ""));
                else if (!rejected.ContainsKey(i))
                    acknowledged.Add(events[i].Key);
            }
            // The same batch again now and then: stored once all the same.
            if (random.Next(20) == 0)
                using (await PostAsync(client, "/v1/ingest/events:batch", body)) { }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests misjudged:\n" + string.Join("\n", failures.Take(30)));

        await Events.Eventually(async () => (await sidecar.GetFromJsonAsync<JsonElement>("/v1/spool")).GetProperty("events").GetInt64() == 0,
            "the forwarder to drain the spool", TimeSpan.FromSeconds(120));
        var spool = await sidecar.GetFromJsonAsync<JsonElement>("/v1/spool");
        var deadLetters = Path.Combine(rig.SpoolDirectory, "dead-letters.jsonl");
        Assert.True(spool.GetProperty("dead_letters").GetInt64() == 0, "dead letters:\n" + (File.Exists(deadLetters) ? string.Join("\n", File.ReadLines(deadLetters).Take(5)) : ""));
        var stored = await Sql.QueryAsync(rig.ConnectionString,
            "SELECT idempotency_key, count(*) FROM event WHERE idempotency_key LIKE @prefix || '%' GROUP BY 1", ("prefix", prefix));
        Assert.All(stored, row => Assert.Equal(1L, row[1]));
        var storedKeys = stored.Select(row => (string)row[0]!).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(storedKeys.Except(acknowledged));
        Assert.Empty(acknowledged.Except(storedKeys));
        output.WriteLine($"seed {seed}: {sent} events in {requests} requests, {acknowledged.Count} acknowledged and stored once");
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await client.PostAsync(path, content);
    }

    private static byte[] Join(List<FuzzEvent> events)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'[');
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
                buffer.WriteByte((byte)',');
            buffer.Write(events[i].Json);
        }
        buffer.WriteByte((byte)']');
        return buffer.ToArray();
    }
}
