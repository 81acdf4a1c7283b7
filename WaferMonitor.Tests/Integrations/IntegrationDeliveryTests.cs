using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using WaferMonitor.Tests.Streaming;

namespace WaferMonitor.Tests.Integrations;

/// <summary>
/// Outbound integrations of a private site's LocalApi, each pointed at a receiver that speaks its sink's protocol: every
/// terminal event its filters match arrives exactly once — across a restart of LocalApi (with events stored meanwhile
/// through the Sidecar's spool) and across a time its sink was down. Each round holds a job of the synthetic checks'
/// reserved app among the real ones: only an integration that asks for synthetic events gets it.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class IntegrationDeliveryTests(FabFixture fab)
{
    private static readonly AppRef EtchA = new(Guid.Parse("2a000000-0000-4000-8000-00000000000a"), "etch-a", "1.0.0");
    private static readonly AppRef EtchB = new(Guid.Parse("2b000000-0000-4000-8000-00000000000b"), "etch-b", "1.0.0");
    private static readonly AppRef Litho = new(Guid.Parse("2c000000-0000-4000-8000-00000000000c"), "litho", "3.1.0");
    private static readonly AppRef Canary = new(Guid.Parse("5e7a1c00-0000-4000-8000-00000000ca7a"), SyntheticChecks.CanaryApp, "1");

    private static readonly Dictionary<string, string> FastRetries = new()
    {
        ["Integrations__PollInterval"] = "100ms",
        ["Integrations__RetryFirstDelay"] = "100ms",
        ["Integrations__RetryMaxDelay"] = "500ms",
    };

    [Fact]
    public async Task The_webhook_gets_each_matching_terminal_event_once_across_a_restart_and_after_its_receiver_was_down()
    {
        await using var receiver = await HttpSinkReceiver.StartAsync();
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>(FastRetries)
        {
            ["Integrations__Webhooks__ops__Url"] = receiver.Url + "/hooks/wafer",
            ["Integrations__Webhooks__ops__Apps"] = "etch-*",
            ["Integrations__Webhooks__ops__Statuses"] = "succeeded,failed",
            ["Integrations__Webhooks__ops__Headers__Authorization"] = "Bearer fab-token",
        });
        var expected = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<string> Received() => receiver.Requests.Select(r => r.Headers["Idempotency-Key"]).ToList();

        // Stored while LocalApi runs.
        var first = Round(rig.Site);
        expected.UnionWith(first.WebhookKeys);
        using (var localApi = rig.Client("localapi"))
            await Events.PostBatchAsync(localApi, first.Events);
        await Events.Eventually(() => Task.FromResult(Received().Count >= expected.Count), "the first round at the webhook");

        // Stored while LocalApi is stopped: the Sidecar spools them and forwards them once it is back.
        await rig.LocalApi.StopForNowAsync();
        var second = Round(rig.Site);
        expected.UnionWith(second.WebhookKeys);
        using (var sidecar = rig.Client("sidecar"))
            await Events.PostBatchAsync(sidecar, second.Events);
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        await Events.Eventually(() => Task.FromResult(Received().Count >= expected.Count), "the second round at the webhook");

        // Stored while the receiver is down: retried with backoff, health degraded, delivered once it is back.
        await receiver.DownAsync();
        var third = Round(rig.Site);
        expected.UnionWith(third.WebhookKeys);
        using var client = rig.Client("localapi");
        await Events.PostBatchAsync(client, third.Events);
        await Events.Eventually(async () => (await client.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("status").GetString() == "degraded",
            "health to turn degraded while the webhook is down");
        var health = await client.GetStringAsync("/v1/healthz");
        Assert.Contains("integration:webhooks:ops", health);
        Assert.True(await StreamTestKit.MetricAsync(client, "integration_delivery_failures_total", "integration=\"webhooks:ops\"") >= 3);
        await receiver.UpAsync();
        await Events.Eventually(() => Task.FromResult(Received().Count >= expected.Count), "the third round at the webhook");
        await Events.Eventually(async () => (await client.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("status").GetString() == "ok",
            "health to recover once the webhook is back");

        // A last event after everything, so anything re-sent would have arrived before it.
        var last = Round(rig.Site);
        expected.UnionWith(last.WebhookKeys);
        await Events.PostBatchAsync(client, last.Events);
        await Events.Eventually(() => Task.FromResult(Received().Count >= expected.Count), "the last round at the webhook");

        var received = Received();
        Assert.Equal(received.Count, received.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal));
        foreach (var request in receiver.Requests)
        {
            Assert.Equal("POST", request.Method);
            Assert.Equal("/hooks/wafer", request.Path);
            Assert.StartsWith("application/json", request.ContentType);
            Assert.Equal("Bearer fab-token", request.Headers["Authorization"]);
            using var body = JsonDocument.Parse(request.Body);
            var e = body.RootElement.GetProperty("event");
            Assert.Equal(request.Headers["Idempotency-Key"], e.GetProperty("idempotency_key").GetString());
            Assert.Equal(rig.Site, e.GetProperty("site_id").GetString());
            Assert.StartsWith("etch-", e.GetProperty("app").GetProperty("name").GetString());
            Assert.Contains(body.RootElement.GetProperty("status").GetString(), new[] { "succeeded", "failed" });
            Assert.True(body.RootElement.GetProperty("seq").GetInt64() > 0);
        }
        // Counted since the restart: the second round (stored while LocalApi was stopped), the third and the last.
        Assert.Equal(second.WebhookKeys.Count + third.WebhookKeys.Count + last.WebhookKeys.Count,
            await StreamTestKit.MetricAsync(client, "integration_events_sent_total", "integration=\"webhooks:ops\""));
        await Events.Eventually(async () => await StreamTestKit.MetricAsync(client, "integration_lag_events", "integration=\"webhooks:ops\"") == 0,
            "the webhook's lag to be 0");
    }

    [Fact]
    public async Task Files_zabbix_elasticsearch_and_loki_get_every_terminal_event_once_across_a_restart_and_after_their_sinks_were_down()
    {
        await using var receiver = await HttpSinkReceiver.StartAsync();
        await using var zabbix = ZabbixTrapperListener.Start();
        var directory = Path.Combine(Path.GetTempPath(), "wm-exports-" + Guid.NewGuid().ToString("N")[..8]);
        var csvDirectory = Path.Combine(directory, "csv");
        var jsonlDirectory = Path.Combine(directory, "jsonl");
        var canaryDirectory = Path.Combine(directory, "canary");
        try
        {
            await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>(FastRetries)
            {
                ["Integrations__Files__lake__Directory"] = csvDirectory,
                ["Integrations__Files__lake__Format"] = "csv",
                ["Integrations__Files__lines__Directory"] = jsonlDirectory,
                ["Integrations__Files__lines__Format"] = "jsonl",
                ["Integrations__Files__canary__Directory"] = canaryDirectory,
                ["Integrations__Files__canary__IncludeSynthetic"] = "true",
                ["Integrations__Zabbix__zbx__Server"] = "127.0.0.1",
                ["Integrations__Zabbix__zbx__Port"] = zabbix.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Integrations__Zabbix__zbx__Host"] = "fab-monitor",
                ["Integrations__Elasticsearch__es__Url"] = receiver.Url,
                ["Integrations__Elasticsearch__es__Index"] = "wafer-events",
                ["Integrations__Loki__loki__Url"] = receiver.Url,
            });
            var rounds = new List<RoundEvents>();
            var sinks = new Sinks(receiver, zabbix, csvDirectory, jsonlDirectory);

            rounds.Add(Round(rig.Site));
            using (var localApi = rig.Client("localapi"))
                await Events.PostBatchAsync(localApi, rounds[^1].Events);
            await sinks.AllArrivedAsync(rounds, "the first round");

            await rig.LocalApi.StopForNowAsync();
            rounds.Add(Round(rig.Site));
            using (var sidecar = rig.Client("sidecar"))
                await Events.PostBatchAsync(sidecar, rounds[^1].Events);
            await rig.LocalApi.StartAgainAsync(CancellationToken.None);
            await sinks.AllArrivedAsync(rounds, "the second round, stored during a restart");

            // Every sink down: the receiver and Zabbix stop listening, the CSV directory is replaced by a plain file.
            await receiver.DownAsync();
            await zabbix.DownAsync();
            var csvAway = csvDirectory + "-away";
            Directory.Move(csvDirectory, csvAway);
            await File.WriteAllTextAsync(csvDirectory, "not a directory");
            rounds.Add(Round(rig.Site));
            using var client = rig.Client("localapi");
            await Events.PostBatchAsync(client, rounds[^1].Events);
            foreach (var integration in new[] { "files:lake", "zabbix:zbx", "elasticsearch:es", "loki:loki" })
            {
                await Events.Eventually(async () => await StreamTestKit.MetricAsync(client, "integration_delivery_failures_total", $"integration=\"{integration}\"") >= 2,
                    $"{integration} to fail and retry while its sink is down");
            }
            Assert.True(sinks.Elasticsearch().Count < rounds.Sum(r => r.TerminalKeys.Count));
            File.Delete(csvDirectory);
            Directory.Move(csvAway, csvDirectory);
            await receiver.UpAsync();
            zabbix.Up();
            await sinks.AllArrivedAsync(rounds, "the third round, stored while the sinks were down");

            rounds.Add(Round(rig.Site));
            await Events.PostBatchAsync(client, rounds[^1].Events);
            await sinks.AllArrivedAsync(rounds, "the last round");

            var expected = rounds.SelectMany(r => r.TerminalKeys).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, sinks.Csv().Order(StringComparer.Ordinal));
            Assert.Equal(expected, sinks.Jsonl().Order(StringComparer.Ordinal));
            Assert.Equal(expected, sinks.Elasticsearch().Order(StringComparer.Ordinal));
            Assert.Equal(expected, sinks.Loki().Order(StringComparer.Ordinal));
            // The entry that asked for synthetic events gets the canary's too.
            var withCanary = expected.Concat(rounds.Select(r => r.CanaryKey)).Order(StringComparer.Ordinal).ToList();
            List<string> CanaryFile() => Directory.GetFiles(canaryDirectory, "canary-*.jsonl").SelectMany(File.ReadAllLines)
                .Select(Sinks.EnvelopeKey).Order(StringComparer.Ordinal).ToList();
            await Events.Eventually(() => Task.FromResult(CanaryFile().Count >= withCanary.Count), "every round at the entry with synthetic events");
            Assert.Equal(withCanary, CanaryFile());
            Assert.Equal(ZabbixTotals(rounds), sinks.ZabbixTotals());
            Assert.Empty(zabbix.Problems);
            Assert.All(zabbix.Values, v => Assert.Equal("fab-monitor", v.Host));
            var lastDuration = zabbix.Values.Last(v => v.Key == "wafermonitor.jobs.last_duration[etch-a]");
            Assert.Equal("12.5", lastDuration.Value);

            // The protocols' details, on what arrived.
            var bulk = receiver.Requests.First(r => r.Path == "/_bulk");
            Assert.StartsWith("application/x-ndjson", bulk.ContentType);
            Assert.EndsWith("\n", bulk.Body);
            var lines = bulk.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            using (var action = JsonDocument.Parse(lines[0]))
            using (var document = JsonDocument.Parse(lines[1]))
            {
                Assert.Equal("wafer-events", action.RootElement.GetProperty("index").GetProperty("_index").GetString());
                Assert.Equal(action.RootElement.GetProperty("index").GetProperty("_id").GetString(),
                    document.RootElement.GetProperty("event").GetProperty("idempotency_key").GetString());
                Assert.True(document.RootElement.TryGetProperty("@timestamp", out _));
            }
            var push = receiver.Requests.First(r => r.Path == "/loki/api/v1/push");
            using (var streams = JsonDocument.Parse(push.Body))
            {
                var stream = streams.RootElement.GetProperty("streams")[0];
                Assert.Equal(rig.Site, stream.GetProperty("stream").GetProperty("site_id").GetString());
                var entry = stream.GetProperty("values")[0];
                Assert.True(long.Parse(entry[0].GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 1_700_000_000_000_000_000);
                using var line = JsonDocument.Parse(entry[1].GetString()!);
                Assert.Equal(stream.GetProperty("stream").GetProperty("status").GetString(), line.RootElement.GetProperty("status").GetString());
            }
            var header = (await File.ReadAllLinesAsync(Directory.GetFiles(csvDirectory, "lake-*.csv").Order().First()))[0];
            Assert.StartsWith("seq,idempotency_key,site_id,app_id,app_name", header);
        }
        finally
        {
            FabFixture.TryDelete(directory);
        }
    }

    /// <summary>What each sink has received, by idempotency key (one entry per delivery, so a re-send shows twice).</summary>
    private sealed class Sinks(HttpSinkReceiver receiver, ZabbixTrapperListener zabbix, string csvDirectory, string jsonlDirectory)
    {
        public List<string> Csv() => Directory.Exists(csvDirectory)
            ? Directory.GetFiles(csvDirectory, "lake-*.csv").SelectMany(f => File.ReadAllLines(f).Skip(1)).Select(l => l.Split(',')[1]).ToList()
            : [];

        public List<string> Jsonl() => Directory.Exists(jsonlDirectory)
            ? Directory.GetFiles(jsonlDirectory, "lines-*.jsonl").SelectMany(File.ReadAllLines).Select(EnvelopeKey).ToList()
            : [];

        public List<string> Elasticsearch() => receiver.Requests.Where(r => r.Path == "/_bulk")
            .SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where((_, i) => i % 2 == 0))
            .Select(action => JsonDocument.Parse(action).RootElement.GetProperty("index").GetProperty("_id").GetString()!)
            .ToList();

        public List<string> Loki() => receiver.Requests.Where(r => r.Path == "/loki/api/v1/push")
            .SelectMany(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("streams").EnumerateArray())
            .SelectMany(s => s.GetProperty("values").EnumerateArray())
            .Select(v => EnvelopeKey(v[1].GetString()!))
            .ToList();

        public string ZabbixTotals() => string.Join("; ", zabbix.Values.Where(v => !v.Key.Contains("last_duration", StringComparison.Ordinal))
            .GroupBy(v => v.Key).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}={g.Sum(v => int.Parse(v.Value, System.Globalization.CultureInfo.InvariantCulture))}"));

        public async Task AllArrivedAsync(List<RoundEvents> rounds, string what)
        {
            var terminal = rounds.Sum(r => r.TerminalKeys.Count);
            var zabbixFinished = rounds.Sum(r => r.ZabbixFinished.Values.Sum());
            await Events.Eventually(() => Task.FromResult(
                Csv().Count >= terminal && Jsonl().Count >= terminal && Elasticsearch().Count >= terminal && Loki().Count >= terminal
                && zabbix.Values.Where(v => v.Key.Contains(".jobs.finished[", StringComparison.Ordinal)).Sum(v => int.Parse(v.Value, System.Globalization.CultureInfo.InvariantCulture)) >= zabbixFinished),
                $"{what} at every sink (csv {Csv().Count}, jsonl {Jsonl().Count}, es {Elasticsearch().Count}, loki {Loki().Count} of {terminal})");
        }

        public static string EnvelopeKey(string json)
        {
            using var envelope = JsonDocument.Parse(json);
            return envelope.RootElement.GetProperty("event").GetProperty("idempotency_key").GetString()!;
        }
    }

    private static string ZabbixTotals(List<RoundEvents> rounds)
    {
        var totals = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var round in rounds)
        {
            foreach (var (app, count) in round.ZabbixFinished)
                totals[$"wafermonitor.jobs.finished[{app}]"] = totals.GetValueOrDefault($"wafermonitor.jobs.finished[{app}]") + count;
            foreach (var (app, count) in round.ZabbixFailed)
                totals[$"wafermonitor.jobs.failed[{app}]"] = totals.GetValueOrDefault($"wafermonitor.jobs.failed[{app}]") + count;
        }
        return string.Join("; ", totals.Select(t => $"{t.Key}={t.Value}"));
    }

    /// <param name="TerminalKeys">Every terminal event (jobs and subjobs, every app and status).</param>
    /// <param name="WebhookKeys">Of them, those the webhook's filters match: jobs and subjobs of etch-* apps, succeeded or failed.</param>
    /// <param name="CanaryKey">The synthetic check's terminal event, not among <paramref name="TerminalKeys"/>: no sink gets it unasked.</param>
    private sealed record RoundEvents(
        List<WireEvent> Events, List<string> TerminalKeys, List<string> WebhookKeys,
        Dictionary<string, int> ZabbixFinished, Dictionary<string, int> ZabbixFailed, string CanaryKey);

    /// <summary>
    /// Four jobs and a subjob, with non-terminal events around the terminal ones: etch-a succeeded (12.5 s) and
    /// etch-b failed (both for the webhook); etch-a canceled (a status the webhook skips); litho failed (an app it skips);
    /// a subjob of wafer-process succeeded (an app it skips; Zabbix counts jobs only); and, among them, a succeeded job of
    /// the synthetic checks' app, which every sink without an app filter would otherwise get.
    /// </summary>
    private static RoundEvents Round(string site)
    {
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        var (succeeded, failed, canceled, litho, parent, wafer) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var succeededEnd = Events.Job(succeeded, EventKinds.Finished, t.AddSeconds(12.5), site, app: EtchA,
            metrics: new Dictionary<string, double> { [MetricNames.DurationSeconds] = 12.5 });
        var failedEnd = Events.Job(failed, EventKinds.Error, t.AddSeconds(3), site, app: EtchB);
        var canceledEnd = Events.Job(canceled, EventKinds.Canceled, t.AddSeconds(2), site, app: EtchA);
        var lithoEnd = Events.Job(litho, EventKinds.Finished, t.AddSeconds(4), site, status: EntityStatuses.Failed, app: Litho);
        var waferEnd = Events.Subjob(wafer, parent, EventKinds.Finished, t.AddSeconds(1), site, status: EntityStatuses.Succeeded);
        var check = Guid.NewGuid();
        var canaryEnd = Events.Job(check, EventKinds.Finished, t.AddSeconds(2), site, app: Canary);
        List<WireEvent> events =
        [
            Events.Job(succeeded, EventKinds.Started, t, site, app: EtchA),
            Events.Job(succeeded, EventKinds.Progress, t.AddSeconds(1), site, app: EtchA),
            succeededEnd,
            Events.Job(failed, EventKinds.Started, t, site, app: EtchB),
            Events.Job(check, EventKinds.Started, t, site, app: Canary),
            canaryEnd,
            failedEnd,
            Events.Job(canceled, EventKinds.Started, t, site, app: EtchA),
            canceledEnd,
            lithoEnd,
            Events.Subjob(wafer, parent, EventKinds.Started, t, site),
            waferEnd,
        ];
        return new RoundEvents(events,
            [.. new[] { succeededEnd, failedEnd, canceledEnd, lithoEnd, waferEnd }.Select(e => e.IdempotencyKey)],
            [succeededEnd.IdempotencyKey, failedEnd.IdempotencyKey],
            new Dictionary<string, int> { ["etch-a"] = 2, ["etch-b"] = 1, ["litho"] = 1 },
            new Dictionary<string, int> { ["etch-a"] = 0, ["etch-b"] = 1, ["litho"] = 1 },
            canaryEnd.IdempotencyKey);
    }
}
