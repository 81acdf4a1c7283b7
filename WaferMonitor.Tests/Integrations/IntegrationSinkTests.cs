using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WaferMonitor.LocalApi.Integrations;
using WaferMonitor.LocalApi.Integrations.Sinks;
using WaferMonitor.LocalApi.Streaming;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Integrations;

/// <summary>The sinks on their own: file rotation by day on an injected clock, the Zabbix framing, filters, and start-up validation.</summary>
public sealed class IntegrationSinkTests
{
    [Fact]
    public async Task Exports_rotate_to_a_new_file_at_utc_midnight_each_csv_with_its_header()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wm-rotate-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 23, 59, 30, TimeSpan.Zero));
            var csv = new FileExportSink("lake", new FileExportOptions { Directory = directory, Format = "csv" }, clock);
            var jsonl = new FileExportSink("lines", new FileExportOptions { Directory = directory, Format = "jsonl" }, clock);
            var before = Terminal(1, metadata: new { note = "a \"quoted\", comma, and\nnewline" });
            var later = Terminal(2);

            await csv.DeliverAsync([before], CancellationToken.None);
            await jsonl.DeliverAsync([before], CancellationToken.None);
            clock.Advance(TimeSpan.FromMinutes(1));
            await csv.DeliverAsync([later], CancellationToken.None);
            await jsonl.DeliverAsync([later], CancellationToken.None);
            await csv.DeliverAsync([Terminal(3)], CancellationToken.None);

            Assert.Equal(["lake-2026-12-01.csv", "lake-2026-12-02.csv", "lines-2026-12-01.jsonl", "lines-2026-12-02.jsonl"],
                Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var firstDay = await File.ReadAllTextAsync(Path.Combine(directory, "lake-2026-12-01.csv"));
            Assert.StartsWith(string.Join(',', FileExportSink.CsvColumns) + "\r\n", firstDay);
            Assert.Contains($"1,{before.IdempotencyKey},fab1,", firstDay);
            // RFC 4180: the metadata field (JSON, with quotes and a comma) is quoted and its quotes doubled.
            var metadata = before.Event.Event.Metadata!.Value.GetRawText();
            Assert.Contains(",\"" + metadata.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"\r\n", firstDay);
            var secondDay = await File.ReadAllLinesAsync(Path.Combine(directory, "lake-2026-12-02.csv"));
            Assert.Equal(3, secondDay.Length);
            Assert.Equal(string.Join(',', FileExportSink.CsvColumns), secondDay[0]);
            Assert.StartsWith($"2,{later.IdempotencyKey},", secondDay[1]);
            Assert.StartsWith("3,", secondDay[2]);
            var line = Assert.Single(await File.ReadAllLinesAsync(Path.Combine(directory, "lines-2026-12-02.jsonl")));
            using var envelope = JsonDocument.Parse(line);
            Assert.Equal(2, envelope.RootElement.GetProperty("seq").GetInt64());
            Assert.Equal("succeeded", envelope.RootElement.GetProperty("status").GetString());
            Assert.Equal(later.IdempotencyKey, envelope.RootElement.GetProperty("event").GetProperty("idempotency_key").GetString());
        }
        finally
        {
            FabFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task The_zabbix_sink_sends_counts_failures_and_last_duration_per_app_in_one_sender_frame()
    {
        await using var zabbix = ZabbixTrapperListener.Start();
        var sink = new ZabbixSink(new ZabbixIntegrationOptions { Server = "127.0.0.1", Port = zabbix.Port, Host = "fab-monitor" },
            NullLogger<ZabbixSink>.Instance);
        var at = new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

        await sink.DeliverAsync(
        [
            Terminal(1, app: "etch a", at: at, durationS: 30),
            Terminal(2, app: "etch a", at: at.AddMinutes(1), kind: EventKinds.Error, durationS: 7.25),
            Terminal(3, app: "etch a", at: at.AddMinutes(2)),
            Terminal(4, app: "litho", at: at, kind: EventKinds.Canceled),
        ], CancellationToken.None);

        Assert.Empty(zabbix.Problems);
        var minute = at.ToUnixTimeSeconds();
        Assert.Equal(
        [
            new TrapperValue("fab-monitor", "wafermonitor.jobs.finished[\"etch a\"]", "3", minute + 120),
            new TrapperValue("fab-monitor", "wafermonitor.jobs.failed[\"etch a\"]", "1", minute + 120),
            new TrapperValue("fab-monitor", "wafermonitor.jobs.last_duration[\"etch a\"]", "7.25", minute + 60),
            new TrapperValue("fab-monitor", "wafermonitor.jobs.finished[litho]", "1", minute),
            new TrapperValue("fab-monitor", "wafermonitor.jobs.failed[litho]", "0", minute),
        ], zabbix.Values);
    }

    [Fact]
    public async Task A_zabbix_answer_other_than_success_fails_the_delivery()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await ZabbixSender.ReadFrameAsync(stream, CancellationToken.None);
            await stream.WriteAsync(ZabbixSender.Frame("""{"response":"failed","info":"host is not monitored"}"""u8));
        });

        var error = await Assert.ThrowsAsync<IOException>(() => ZabbixSender.SendAsync("127.0.0.1", port,
            [new ZabbixValue("fab-monitor", "wafermonitor.jobs.finished[x]", "1", 0)], CancellationToken.None));
        Assert.Contains("host is not monitored", error.Message);
        await server;
    }

    [Theory]
    [InlineData("etch-*", "", "etch-a", "succeeded", true)]
    [InlineData("etch-*", "", "litho", "succeeded", false)]
    [InlineData("etch-?,litho", "failed", "litho", "failed", true)]
    [InlineData("etch-?,litho", "failed", "etch-ab", "failed", false)]
    [InlineData("", "failed,canceled", "anything", "succeeded", false)]
    [InlineData("", "", "anything", "canceled", true)]
    public void Filters_match_app_globs_and_terminal_statuses(string apps, string statuses, string app, string status, bool matches)
    {
        var filter = new IntegrationFilter(new WebhookIntegrationOptions { Apps = apps, Statuses = statuses });
        var kind = status switch { "failed" => EventKinds.Error, "canceled" => EventKinds.Canceled, _ => EventKinds.Finished };
        Assert.Equal(matches, filter.Matches(Terminal(1, app: app, kind: kind)));
    }

    [Theory]
    [InlineData("", false, false)]
    [InlineData("*", false, false)]
    [InlineData(SyntheticChecks.CanaryApp, false, false)]
    [InlineData("", true, true)]
    [InlineData("wafermonitor.*", true, true)]
    [InlineData("etch-*", true, false)]
    public void The_synthetic_checks_app_is_left_out_unless_the_integration_asks_for_it(string apps, bool includeSynthetic, bool matches)
    {
        var filter = new IntegrationFilter(new WebhookIntegrationOptions { Apps = apps, IncludeSynthetic = includeSynthetic });
        Assert.Equal(matches, filter.Matches(Terminal(1, app: SyntheticChecks.CanaryApp)));
        // A real app is matched by the globs alone, synthetic events asked for or not.
        Assert.Equal(apps is "" or "*" or "etch-*", filter.Matches(Terminal(2, app: "etch-a")));
    }

    [Theory]
    [InlineData("Integrations__Webhooks__ops__Url=not a url", "Integrations:Webhooks:ops:Url")]
    [InlineData("Integrations__Webhooks__ops__Url=http://127.0.0.1:9|Integrations__Webhooks__ops__Statuses=failed,exploded", "Integrations:Webhooks:ops:Statuses")]
    [InlineData("Integrations__Files__lake__Format=parquet|Integrations__Files__lake__Directory=/tmp/x", "Integrations:Files:lake:Format")]
    [InlineData("Integrations__Zabbix__zbx__Server=127.0.0.1", "Integrations:Zabbix:zbx:Host")]
    [InlineData("Integrations__RetryMaxDelay=72:00:00", "Integrations:RetryMaxDelay")]
    public async Task A_bad_integration_setting_stops_local_api_with_one_line_naming_the_key(string environment, string key)
    {
        var error = await StartupErrors.OneLineAsync("LocalApi", "LocalApi__SiteId=fab1|ConnectionStrings__monitor=Host=127.0.0.1;Port=1|" + environment);
        Assert.Contains("configuration error", error);
        Assert.Contains(key, error);
    }

    private static IntegrationEvent Terminal(long seq, string app = "etch-a", DateTimeOffset? at = null, string kind = EventKinds.Finished,
        double? durationS = null, object? metadata = null)
    {
        var wire = Events.Job(Guid.NewGuid(), kind, at ?? DateTimeOffset.UtcNow, app: new AppRef(Guid.NewGuid(), app, "1.0.0"),
            metrics: durationS is { } d ? new Dictionary<string, double> { [MetricNames.DurationSeconds] = d } : null, metadata: metadata);
        var payload = JsonSerializer.Serialize(wire, WireJson.Options);
        return IntegrationEvent.FromTerminal(new StoredEventRow(seq, payload, wire.Entity.Type, wire.Entity.Id, null, kind, app, null))!;
    }
}
