using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Alerts;

/// <summary>
/// Alerts end to end: events through a real Sidecar into a private site's LocalApi and PostgreSQL, the rules evaluated there,
/// the alerts posted to a real Alertmanager, and Alertmanager's notifications received by a webhook in the test.
/// Windows and thresholds are shortened by configuration; the rule logic is the shipped one.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class AlertsTests(FabFixture fab)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    private static Dictionary<string, string> FastAlerts(Uri? alertmanager, Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Alerts__EvaluationInterval"] = "300ms",
            ["Alerts__Cooldown"] = "1h",
            ["Alerts__MaxBackoff"] = "500ms",
        };
        if (alertmanager is not null)
            settings["Alerts__AlertmanagerUrls__0"] = alertmanager.ToString();
        foreach (var (key, value) in more ?? [])
            settings[key] = value;
        return settings;
    }

    private static AppRef App(string name) => new(Guid.NewGuid(), name, "1.0.0");

    /// <summary>The site's alerts (GET /v1/alerts with <paramref name="query"/>), all pages.</summary>
    private static async Task<List<JsonElement>> AlertsAsync(HttpClient localApi, string query = "")
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await localApi.GetFromJsonAsync<JsonElement>($"/v1/alerts?{query}" + (cursor is null ? "" : $"&cursor={cursor}"));
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        return items;
    }

    private static string Label(JsonElement alert, string name) =>
        alert.GetProperty("labels").TryGetProperty(name, out var value) ? value.GetString()! : "";

    private static async Task<JsonElement> OneAsync(HttpClient localApi, string rule, string state, Func<JsonElement, bool>? where = null)
    {
        JsonElement found = default;
        await Events.Eventually(async () =>
        {
            var match = (await AlertsAsync(localApi, $"rule={rule}&state={state}")).Where(where ?? (_ => true)).ToList();
            if (match.Count == 0)
                return false;
            found = Assert.Single(match);
            return true;
        }, $"a {state} {rule} alert", Patience);
        return found;
    }

    [Fact]
    public async Task Each_default_job_rule_fires_on_ingested_data_names_the_lot_reaches_the_webhook_through_alertmanager_and_resolves()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var alertmanager = await AlertmanagerProcess.StartAsync(webhook.Url);
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: FastAlerts(alertmanager.Url, new()
        {
            ["Alerts__Rules__high_memory__Window"] = "3s",
            ["Alerts__Rules__high_failure_rate__Window"] = "30s",
            ["Alerts__Apps__quiet-*__no_jobs_received"] = "3s",
        }));
        using var sidecar = rig.Client("sidecar");
        using var localApi = rig.Client("localapi");
        var now = DateTimeOffset.UtcNow;
        var site = rig.Site;

        // A lot started two hours ago that still reports progress: long-running, not stalled.
        var longJob = Guid.NewGuid();
        // A lot that has said nothing for eleven minutes: stalled, not long-running.
        var stalledJob = Guid.NewGuid();
        // A wafer whose memory went over 8 GB.
        var memoryJob = Guid.NewGuid();
        var memoryWafer = Guid.NewGuid();
        // An app whose recent jobs mostly failed.
        var failing = App("failing-app");
        var quiet = App("quiet-app");
        var events = new List<WireEvent>
        {
            Events.Job(longJob, EventKinds.Started, now.AddHours(-2), site: site, businessKey: "LOT-LONG", app: App("litho-app")),
            Events.Job(longJob, EventKinds.Progress, now, site: site, businessKey: "LOT-LONG", app: App("litho-app")),
            Events.Job(stalledJob, EventKinds.Started, now.AddMinutes(-11), site: site, businessKey: "LOT-STALL", app: App("etch-app")),
            Events.Job(memoryJob, EventKinds.Started, now, site: site, businessKey: "LOT-MEM"),
            Events.Subjob(memoryWafer, memoryJob, EventKinds.Started, now, site: site, subKey: "wafer-07"),
            Events.Subjob(memoryWafer, memoryJob, EventKinds.Metric, now, site: site, subKey: "wafer-07", metrics: new() { ["mem_max_mb"] = 9000 }),
            Events.Job(Guid.NewGuid(), EventKinds.Started, now, site: site, businessKey: "LOT-QUIET", app: quiet),
        };
        for (var i = 0; i < 5; i++)
        {
            var job = Guid.NewGuid();
            events.Add(Events.Job(job, EventKinds.Started, now.AddSeconds(-10), site: site, businessKey: $"LOT-F{i}", app: failing));
            events.Add(Events.Job(job, EventKinds.Finished, now, site: site, businessKey: $"LOT-F{i}", app: failing,
                status: i < 3 ? EntityStatuses.Failed : EntityStatuses.Succeeded));
        }
        Assert.Equal(events.Count, (await Events.PostBatchAsync(sidecar, events)).Accepted);

        var longAlert = await OneAsync(localApi, "long_running_job", "firing");
        Assert.Equal(longJob.ToString(), Label(longAlert, "job_id"));
        Assert.Equal("LOT-LONG", Label(longAlert, "business_key"));
        Assert.Equal("litho-app", Label(longAlert, "app"));
        Assert.Equal(site, Label(longAlert, "site"));
        Assert.Equal("warning", Label(longAlert, "severity"));
        Assert.Contains("LOT-LONG", longAlert.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.EndsWith($"/v1/jobs/{longJob}", longAlert.GetProperty("annotations").GetProperty("link").GetString());

        var stalled = await OneAsync(localApi, "stalled_job", "firing");
        Assert.Equal("LOT-STALL", Label(stalled, "business_key"));
        Assert.Empty(await AlertsAsync(localApi, "rule=long_running_job&app=etch-app"));
        Assert.Empty(await AlertsAsync(localApi, "rule=stalled_job&app=litho-app"));

        var memory = await OneAsync(localApi, "high_memory", "firing");
        Assert.Equal("LOT-MEM", Label(memory, "business_key"));
        Assert.Equal("wafer-07", Label(memory, "sub_key"));
        Assert.Equal(memoryWafer.ToString(), Label(memory, "subjob"));
        Assert.Equal(memoryJob.ToString(), Label(memory, "job_id"));

        var failureRate = await OneAsync(localApi, "high_failure_rate", "firing");
        Assert.Equal("failing-app", Label(failureRate, "app"));
        Assert.Equal("critical", Label(failureRate, "severity"));
        Assert.Contains("60%", failureRate.GetProperty("annotations").GetProperty("summary").GetString());

        var noJobs = await OneAsync(localApi, "no_jobs_received", "firing");
        Assert.Equal("quiet-app", Label(noJobs, "app"));

        // Alertmanager holds them with our labels, and its webhook notification carries them.
        await Events.Eventually(async () => (await alertmanager.AlertsAsync()).Any(a =>
            a.GetProperty("labels").GetProperty("alertname").GetString() == "long_running_job"
            && a.GetProperty("labels").GetProperty("business_key").GetString() == "LOT-LONG"), "the alert in Alertmanager", Patience);
        await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Status == "firing" && a.Labels.GetValueOrDefault("alertname") == "high_memory"
            && a.Labels.GetValueOrDefault("sub_key") == "wafer-07" && a.Labels.GetValueOrDefault("business_key") == "LOT-MEM"
            && a.Labels.GetValueOrDefault("site") == site)), "Alertmanager's webhook notification naming the wafer", Patience);
        Assert.Contains(webhook.Payloads, p => p.GetProperty("version").GetString() == "4" && p.GetProperty("receiver").GetString() == "test-webhook");

        // The conditions end: the long lot finishes, the stalled lot speaks, the memory and failure windows pass, the quiet app starts a job.
        var later = DateTimeOffset.UtcNow;
        Assert.Equal(5, (await Events.PostBatchAsync(sidecar,
        [
            Events.Job(longJob, EventKinds.Finished, later, site: site, businessKey: "LOT-LONG", app: App("litho-app"), status: EntityStatuses.Succeeded),
            Events.Job(stalledJob, EventKinds.Progress, later, site: site, businessKey: "LOT-STALL", app: App("etch-app")),
            Events.Subjob(memoryWafer, memoryJob, EventKinds.Finished, later, site: site, subKey: "wafer-07", status: EntityStatuses.Succeeded),
            Events.Job(memoryJob, EventKinds.Finished, later, site: site, businessKey: "LOT-MEM", status: EntityStatuses.Succeeded),
            Events.Job(Guid.NewGuid(), EventKinds.Started, later, site: site, businessKey: "LOT-QUIET-2", app: quiet),
        ])).Accepted);
        foreach (var rule in new[] { "long_running_job", "stalled_job", "high_memory", "high_failure_rate", "no_jobs_received" })
        {
            var resolved = await OneAsync(localApi, rule, "resolved", a => a.GetProperty("alert_id").GetInt64() is var id
                && id == new[] { longAlert, stalled, memory, failureRate, noJobs }.Single(f => f.GetProperty("rule").GetString() == rule).GetProperty("alert_id").GetInt64());
            Assert.True(resolved.GetProperty("resolved_at").GetDateTimeOffset() >= resolved.GetProperty("fired_at").GetDateTimeOffset());
        }
        await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Status == "resolved"
            && a.Labels.GetValueOrDefault("alertname") == "long_running_job" && a.Labels.GetValueOrDefault("business_key") == "LOT-LONG")),
            "the resolved notification", Patience);
    }

    [Fact]
    public async Task For_keeps_an_alert_pending_and_a_restart_neither_forgets_nor_resends_it_and_an_unreachable_alertmanager_gets_it_later()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        // Alertmanager's address is known but nothing listens there yet.
        var port = AlertmanagerProcess.FreePort();
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: FastAlerts(new Uri($"http://127.0.0.1:{port}"), new()
        {
            ["Alerts__Rules__long_running_job__For"] = "3s",
        }));
        using var sidecar = rig.Client("sidecar");
        var job = Guid.NewGuid();
        Assert.Equal(1, (await Events.PostBatchAsync(sidecar,
            [Events.Job(job, EventKinds.Started, DateTimeOffset.UtcNow.AddHours(-3), site: rig.Site, businessKey: "LOT-FOR")])).Accepted);

        using (var localApi = rig.Client("localapi"))
        {
            var pending = await OneAsync(localApi, "long_running_job", "pending");
            Assert.Equal(JsonValueKind.Null, pending.GetProperty("fired_at").ValueKind);
            var firing = await OneAsync(localApi, "long_running_job", "firing");
            Assert.Equal(pending.GetProperty("alert_id").GetInt64(), firing.GetProperty("alert_id").GetInt64());
            Assert.True(firing.GetProperty("fired_at").GetDateTimeOffset() - firing.GetProperty("active_at").GetDateTimeOffset() >= TimeSpan.FromSeconds(3));
            await Task.Delay(1000);
            Assert.Equal(JsonValueKind.Null, (await OneAsync(localApi, "long_running_job", "firing")).GetProperty("last_notified_at").ValueKind);
            var metrics = await localApi.GetStringAsync("/metrics");
            Assert.Contains("alert_notifications_total{outcome=\"failed\"", metrics);
            Assert.Contains("alerts_firing{rule=\"long_running_job\",severity=\"warning\"} 1", metrics);
        }

        await using var alertmanager = await AlertmanagerProcess.StartAsync(webhook.Url, port);
        await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("business_key") == "LOT-FOR")),
            "the alert delivered once Alertmanager is up", Patience);
        DateTimeOffset notified = default;
        long alertId = 0;
        using (var localApi = rig.Client("localapi"))
        {
            await Events.Eventually(async () =>
            {
                var alert = await OneAsync(localApi, "long_running_job", "firing");
                alertId = alert.GetProperty("alert_id").GetInt64();
                return alert.GetProperty("last_notified_at") is { ValueKind: JsonValueKind.String } at && (notified = at.GetDateTimeOffset()) != default;
            }, "last_notified_at recorded", Patience);
        }

        await rig.LocalApi.StopForNowAsync();
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        using (var localApi = rig.Client("localapi"))
        {
            await Task.Delay(2000);
            var after = await OneAsync(localApi, "long_running_job", "firing");
            Assert.Equal(alertId, after.GetProperty("alert_id").GetInt64());
            Assert.Equal(notified, after.GetProperty("last_notified_at").GetDateTimeOffset());
            Assert.Single(await AlertsAsync(localApi, "rule=long_running_job"));

            Assert.Equal(1, (await Events.PostBatchAsync(sidecar,
                [Events.Job(job, EventKinds.Finished, DateTimeOffset.UtcNow, site: rig.Site, businessKey: "LOT-FOR", status: EntityStatuses.Succeeded)])).Accepted);
            await Events.Eventually(async () => (await AlertsAsync(localApi, "rule=long_running_job&state=resolved")).SingleOrDefault() is { ValueKind: JsonValueKind.Object } r
                && r.GetProperty("last_notified_at").GetDateTimeOffset() >= r.GetProperty("resolved_at").GetDateTimeOffset(), "resolved and sent", Patience);
        }
        await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Status == "resolved" && a.Labels.GetValueOrDefault("business_key") == "LOT-FOR")),
            "the resolved notification", Patience);
        JsonElement resolvedBefore;
        using (var localApi = rig.Client("localapi"))
            resolvedBefore = (await AlertsAsync(localApi, "rule=long_running_job")).Single();

        await rig.LocalApi.StopForNowAsync();
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        using (var localApi = rig.Client("localapi"))
        {
            await Task.Delay(2000);
            var resolvedAfter = (await AlertsAsync(localApi, "rule=long_running_job")).Single();
            Assert.Equal("resolved", resolvedAfter.GetProperty("state").GetString());
            Assert.Equal(resolvedBefore.GetProperty("last_notified_at").GetDateTimeOffset(), resolvedAfter.GetProperty("last_notified_at").GetDateTimeOffset());
        }
    }

    [Fact]
    public async Task Sidecars_report_and_their_backlog_and_silence_alert_and_resolve()
    {
        await using var rig = await SiteRig.StartAsync(fab,
            sidecarEnvironment: new Dictionary<string, string> { ["Sidecar__HeartbeatInterval"] = "300ms", ["Sidecar__NodeName"] = "node-a" },
            localApiEnvironment: FastAlerts(null, new()
            {
                ["Alerts__Rules__ingestion_lag__For"] = "4s",
                ["Alerts__Rules__sidecar_silent__Threshold"] = "3s",
            }));
        using var localApi = rig.Client("localapi");
        await Events.Eventually(async () => (await localApi.GetFromJsonAsync<JsonElement>("/v1/sidecars")).GetProperty("items").EnumerateArray()
            .Any(s => s.GetProperty("node").GetString() == "node-a" && s.GetProperty("version").GetString()!.Length > 0
                && s.GetProperty("spool_events").GetInt64() == 0 && !s.GetProperty("silent").GetBoolean()), "node-a listed", Patience);

        // A Sidecar (played by the test) reporting every 300 ms: its spool backs up, then drains, then it goes quiet.
        var spooled = 500L;
        using var reporting = new CancellationTokenSource();
        var reporter = Task.Run(async () =>
        {
            while (!reporting.IsCancellationRequested)
            {
                var events = Interlocked.Read(ref spooled);
                using var response = await localApi.PostAsJsonAsync("/v1/sidecars/heartbeat",
                    new SidecarHeartbeat("node-b", "9.9.9", null, events, events * 500, events > 0 ? 400 : null, 2), WireJson.Options);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await Task.Delay(300);
            }
        });
        var pending = await OneAsync(localApi, "ingestion_lag", "pending");
        Assert.Equal("node-b", Label(pending, "node"));
        var firing = await OneAsync(localApi, "ingestion_lag", "firing");
        Assert.True(firing.GetProperty("fired_at").GetDateTimeOffset() - firing.GetProperty("active_at").GetDateTimeOffset() >= TimeSpan.FromSeconds(4));
        Interlocked.Exchange(ref spooled, 0);
        await OneAsync(localApi, "ingestion_lag", "resolved");
        Assert.Empty(await AlertsAsync(localApi, "rule=sidecar_silent"));

        await reporting.CancelAsync();
        await reporter;
        var silent = await OneAsync(localApi, "sidecar_silent", "firing");
        Assert.Equal("node-b", Label(silent, "node"));
        var sidecars = (await localApi.GetFromJsonAsync<JsonElement>("/v1/sidecars")).GetProperty("items").EnumerateArray().ToList();
        Assert.True(sidecars.Single(s => s.GetProperty("node").GetString() == "node-b").GetProperty("silent").GetBoolean());
        Assert.False(sidecars.Single(s => s.GetProperty("node").GetString() == "node-a").GetProperty("silent").GetBoolean());
        using (var again = await localApi.PostAsJsonAsync("/v1/sidecars/heartbeat", new SidecarHeartbeat("node-b", "9.9.9", null, 0, 0, null, 2), WireJson.Options))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await OneAsync(localApi, "sidecar_silent", "resolved");

        using var bad = await localApi.PostAsJsonAsync("/v1/sidecars/heartbeat", new SidecarHeartbeat("no spaces allowed", "1", null, -1, 0, null, 0), WireJson.Options);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task An_unreachable_database_is_alerted_from_memory_and_recorded_once_it_is_back()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var alertmanager = await AlertmanagerProcess.StartAsync(webhook.Url);
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: FastAlerts(alertmanager.Url));
        using var localApi = rig.Client("localapi");
        await localApi.GetFromJsonAsync<JsonElement>("/v1/alerts");
        var database = new NpgsqlConnectionStringBuilder(rig.ConnectionString).Database!;
        var server = new NpgsqlConnectionStringBuilder(rig.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;

        await Sql.QueryAsync(server, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
        try
        {
            await Sql.QueryAsync(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @db", ("db", database));
            await Events.Eventually(async () => (await alertmanager.AlertsAsync()).Any(a =>
                a.GetProperty("labels").GetProperty("alertname").GetString() == "database_unreachable"
                && a.GetProperty("labels").GetProperty("site").GetString() == rig.Site
                && a.GetProperty("labels").GetProperty("severity").GetString() == "critical"), "database_unreachable in Alertmanager", Patience);
            await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("alertname") == "database_unreachable" && a.Status == "firing")),
                "database_unreachable at the webhook", Patience);
        }
        finally
        {
            await Sql.QueryAsync(server, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }

        var resolved = await OneAsync(localApi, "database_unreachable", "resolved");
        Assert.Equal(rig.Site, Label(resolved, "site"));
        Assert.True(resolved.GetProperty("fired_at").GetDateTimeOffset() < resolved.GetProperty("resolved_at").GetDateTimeOffset());
        await Events.Eventually(() => Task.FromResult(webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("alertname") == "database_unreachable" && a.Status == "resolved")),
            "the resolved notification", Patience);
    }

    [Fact]
    public async Task A_custom_rule_of_each_kind_fires_with_its_labels_and_the_rules_endpoint_shows_them()
    {
        // One rule comes from a rules file, layered over the environment's.
        var rulesFile = Path.Combine(Path.GetTempPath(), $"wm-rules-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(rulesFile, """
            { "Alerts": { "Rules": { "weak_vacuum": { "Kind": "metric_below", "Metric": "chuck_vacuum_kpa", "Threshold": "40",
              "EntityType": "subjob", "Summary": "{business_key} {sub_key} held at {value} kPa" } } } }
            """);
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: FastAlerts(null, new()
        {
            ["Alerts__Rules__slow_recipe__Kind"] = "metric_above",
            ["Alerts__Rules__slow_recipe__Metric"] = "duration_s",
            ["Alerts__Rules__slow_recipe__Threshold"] = "100",
            ["Alerts__Rules__slow_recipe__App"] = "recipe-*",
            ["Alerts__Rules__slow_recipe__Severity"] = "info",
            ["Alerts__Rules__slow_recipe__Labels__team"] = "etch",
            ["Alerts__Rules__slow_recipe__Summary"] = "{business_key} took {value} s",
            ["Alerts__RulesFile"] = rulesFile,
            ["Alerts__Rules__idle_wafer__Kind"] = "metric_below",
            ["Alerts__Rules__idle_wafer__Metric"] = "cpu_user_s",
            ["Alerts__Rules__idle_wafer__Threshold"] = "0.5",
            ["Alerts__Rules__idle_wafer__EntityType"] = "subjob",
            ["Alerts__Rules__qa_failures__Kind"] = "failure_rate",
            ["Alerts__Rules__qa_failures__Threshold"] = "50%",
            ["Alerts__Rules__qa_failures__MinJobs"] = "2",
            ["Alerts__Rules__qa_failures__BusinessKey"] = "^QA-",
            ["Alerts__Rules__long_wafer__Kind"] = "running_longer_than",
            ["Alerts__Rules__long_wafer__Threshold"] = "30m",
            ["Alerts__Rules__long_wafer__EntityType"] = "subjob",
            ["Alerts__Rules__quiet_job__Kind"] = "silent_for",
            ["Alerts__Rules__quiet_job__Threshold"] = "5m",
            ["Alerts__Rules__quiet_job__App"] = "quiet-*",
            ["Alerts__Rules__chuck_error__Kind"] = "error_matching",
            ["Alerts__Rules__chuck_error__Pattern"] = "chuck|vacuum",
            ["Alerts__Rules__chuck_error__EntityType"] = "any",
            ["Alerts__Rules__chuck_error__Severity"] = "critical",
        }));
        File.Delete(rulesFile);
        using var sidecar = rig.Client("sidecar");
        using var localApi = rig.Client("localapi");
        var now = DateTimeOffset.UtcNow;
        var site = rig.Site;
        var recipe = App("recipe-etch");
        var slow = Guid.NewGuid();
        var waferJob = Guid.NewGuid();
        var idleWafer = Guid.NewGuid();
        var longWafer = Guid.NewGuid();
        var weakWafer = Guid.NewGuid();
        var firmWafer = Guid.NewGuid();
        var quietJob = Guid.NewGuid();
        var chuckJob = Guid.NewGuid();
        var events = new List<WireEvent>
        {
            Events.Job(slow, EventKinds.Started, now.AddSeconds(-300), site: site, businessKey: "LOT-SLOW", app: recipe),
            Events.Job(slow, EventKinds.Finished, now, site: site, businessKey: "LOT-SLOW", app: recipe, status: EntityStatuses.Succeeded),
            Events.Job(waferJob, EventKinds.Started, now, site: site, businessKey: "LOT-W"),
            Events.Subjob(idleWafer, waferJob, EventKinds.Started, now.AddSeconds(-5), site: site, subKey: "wafer-03"),
            Events.Subjob(idleWafer, waferJob, EventKinds.Finished, now, site: site, subKey: "wafer-03", status: EntityStatuses.Succeeded,
                metrics: new() { ["cpu_user_s"] = 0.1 }),
            Events.Subjob(longWafer, waferJob, EventKinds.Started, now.AddHours(-1), site: site, subKey: "wafer-04"),
            Events.Subjob(weakWafer, waferJob, EventKinds.Progress, now.AddSeconds(-3), site: site, subKey: "wafer-05",
                metrics: new() { ["chuck_vacuum_kpa"] = 12 }),
            Events.Subjob(weakWafer, waferJob, EventKinds.Finished, now, site: site, subKey: "wafer-05", status: EntityStatuses.Succeeded,
                metrics: new() { ["chuck_vacuum_kpa"] = 35.5, ["cpu_user_s"] = 2 }),
            Events.Subjob(firmWafer, waferJob, EventKinds.Finished, now, site: site, subKey: "wafer-06", status: EntityStatuses.Succeeded,
                metrics: new() { ["chuck_vacuum_kpa"] = 80, ["cpu_user_s"] = 2 }),
            Events.Job(quietJob, EventKinds.Started, now.AddMinutes(-6), site: site, businessKey: "LOT-Q", app: App("quiet-tool")),
            Events.Job(chuckJob, EventKinds.Started, now.AddSeconds(-5), site: site, businessKey: "LOT-CHUCK"),
            Events.Job(chuckJob, EventKinds.Error, now, site: site, businessKey: "LOT-CHUCK", metadata: new { error_type = "ChuckVacuumLost", error = "vacuum low" }),
        };
        for (var i = 0; i < 3; i++)
        {
            var qa = Guid.NewGuid();
            events.Add(Events.Job(qa, EventKinds.Started, now.AddSeconds(-5), site: site, businessKey: $"QA-{i}"));
            events.Add(Events.Job(qa, EventKinds.Finished, now, site: site, businessKey: $"QA-{i}", status: i < 2 ? EntityStatuses.Failed : EntityStatuses.Succeeded));
        }
        Assert.Equal(events.Count, (await Events.PostBatchAsync(sidecar, events)).Accepted);

        var slowAlert = await OneAsync(localApi, "slow_recipe", "firing");
        Assert.Equal("LOT-SLOW", Label(slowAlert, "business_key"));
        Assert.Equal("etch", Label(slowAlert, "team"));
        Assert.Equal("info", Label(slowAlert, "severity"));
        Assert.Equal("LOT-SLOW took 300 s", slowAlert.GetProperty("annotations").GetProperty("summary").GetString());
        var idle = await OneAsync(localApi, "idle_wafer", "firing");
        Assert.Equal("wafer-03", Label(idle, "sub_key"));
        Assert.Equal("LOT-W", Label(idle, "business_key"));
        // A metric the row does not keep is read from the event that decided the wafer's status, not an earlier one.
        var weak = await OneAsync(localApi, "weak_vacuum", "firing");
        Assert.Equal("wafer-05", Label(weak, "sub_key"));
        Assert.Equal("LOT-W wafer-05 held at 35.5 kPa", weak.GetProperty("annotations").GetProperty("summary").GetString());
        var qaAlert = await OneAsync(localApi, "qa_failures", "firing");
        Assert.Equal("wafer-process", Label(qaAlert, "app"));
        var longAlert = await OneAsync(localApi, "long_wafer", "firing");
        Assert.Equal("wafer-04", Label(longAlert, "sub_key"));
        var quietAlert = await OneAsync(localApi, "quiet_job", "firing");
        Assert.Equal("LOT-Q", Label(quietAlert, "business_key"));
        var chuck = await OneAsync(localApi, "chuck_error", "firing");
        Assert.Equal("LOT-CHUCK", Label(chuck, "business_key"));
        Assert.Equal("critical", Label(chuck, "severity"));

        var rules = await localApi.GetFromJsonAsync<JsonElement>("/v1/alert-rules");
        var byName = rules.GetProperty("rules").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal(15, byName.Count);
        Assert.Equal("metric_above", byName["slow_recipe"].GetProperty("kind").GetString());
        Assert.False(byName["slow_recipe"].GetProperty("default").GetBoolean());
        Assert.Equal("50%", byName["qa_failures"].GetProperty("threshold").GetString());
        Assert.Equal("1h", byName["long_running_job"].GetProperty("threshold").GetString());

        // Paging and filters: a page of one at a time shows every alert once.
        var all = await AlertsAsync(localApi, "state=firing");
        var paged = await AlertsAsync(localApi, "state=firing&limit=1");
        Assert.Equal(all.Select(a => a.GetProperty("alert_id").GetInt64()), paged.Select(a => a.GetProperty("alert_id").GetInt64()));
        Assert.True(all.Count >= 6);
        Assert.All(await AlertsAsync(localApi, "severity=critical"), a => Assert.Equal("critical", a.GetProperty("severity").GetString()));
        foreach (var bad in new[] { "state=burning", "severity=loud", "limit=0", "cursor=nope", "from=yesterday" })
            Assert.Equal(HttpStatusCode.BadRequest, (await localApi.GetAsync($"/v1/alerts?{bad}")).StatusCode);
    }

    [Fact]
    public async Task Ten_thousand_long_running_jobs_make_a_bounded_number_of_grouped_notifications()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var alertmanager = await AlertmanagerProcess.StartAsync(webhook.Url, groupBy: "[alertname, site]");
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: FastAlerts(alertmanager.Url, new()
        {
            ["Alerts__EvaluationInterval"] = "1s",
        }));
        using var localApi = rig.Client("localapi");
        var started = DateTimeOffset.UtcNow.AddHours(-2);
        var app = App("flood-app");
        foreach (var chunk in Enumerable.Range(0, 10_000).Chunk(1000))
        {
            var batch = chunk.Select(i => Events.Job(Guid.NewGuid(), EventKinds.Started, started, site: rig.Site, businessKey: $"LOT-{i:D5}", app: app)).ToList();
            Assert.Equal(1000, (await Events.PostBatchAsync(localApi, batch)).Accepted);
        }

        await Events.Eventually(async () => (await localApi.GetFromJsonAsync<JsonElement>("/v1/alerts?rule=long_running_job&state=firing&limit=10000"))
            .GetProperty("count").GetInt32() == 10_000, "10,000 firing alerts", TimeSpan.FromSeconds(90));
        await Events.Eventually(async () => (await alertmanager.AlertsAsync()).Count(a =>
            a.GetProperty("labels").GetProperty("alertname").GetString() == "long_running_job") == 10_000, "10,000 alerts in Alertmanager", TimeSpan.FromSeconds(90));
        await Events.Eventually(() => Task.FromResult(webhook.Payloads.Any(p => p.GetProperty("alerts").GetArrayLength() == 10_000)),
            "one notification listing all 10,000 lots", TimeSpan.FromSeconds(60));

        var notifications = webhook.Payloads.Where(p => p.GetProperty("groupLabels").GetProperty("alertname").GetString() == "long_running_job").ToList();
        Assert.InRange(notifications.Count, 1, 12);
        var lots = notifications.Last().GetProperty("alerts").EnumerateArray()
            .Select(a => a.GetProperty("labels").GetProperty("business_key").GetString()).ToHashSet();
        Assert.Equal(10_000, lots.Count);
        Assert.Contains("LOT-09999", lots);
    }
}
