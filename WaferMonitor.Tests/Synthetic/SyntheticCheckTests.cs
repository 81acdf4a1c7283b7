using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Synthetic;

/// <summary>
/// The canary: in the shared fab (the AppHost turns it on) its job goes Sidecar → spool → forwarder → LocalApi → database →
/// query and is recorded with its latency and LocalApi's health, while listings and stats leave it out; in a private site
/// whose LocalApi is stopped, then frozen (SIGSTOP), its checks fail, are recorded once LocalApi is back, and the outage
/// shows in the site's availability as the seconds it lasted.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class SyntheticCheckTests(FabFixture fab)
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    private static async Task<JsonElement> SummaryAsync(HttpClient localApi) => await localApi.GetFromJsonAsync<JsonElement>("/v1/synthetic");

    private static async Task<JsonElement> AvailabilityAsync(HttpClient localApi) =>
        (await localApi.GetFromJsonAsync<JsonElement>("/v1/sla")).GetProperty("objectives").EnumerateArray()
            .Single(o => o.GetProperty("name").GetString() == "availability");

    /// <summary>Seconds of the 30-day window not covered by an available check interval.</summary>
    private static async Task<long> UnavailableSecondsAsync(HttpClient localApi)
    {
        var month = (await AvailabilityAsync(localApi)).GetProperty("windows").GetProperty("30d");
        return month.GetProperty("total").GetInt64() - month.GetProperty("good").GetInt64();
    }

    [Fact]
    public async Task The_fab_canary_is_seen_end_to_end_and_left_out_of_listings_and_stats()
    {
        using var localApi = fab.Client("localapi-fab1");
        JsonElement passed = default;
        await Events.Eventually(async () =>
        {
            var recent = (await SummaryAsync(localApi)).GetProperty("recent").EnumerateArray().Where(c => c.GetProperty("ok").GetBoolean()).ToList();
            if (recent.Count == 0)
                return false;
            passed = recent[0];
            return true;
        }, "a passed synthetic check at fab1", TimeSpan.FromSeconds(90));
        Assert.True(passed.GetProperty("latency_s").GetDouble() >= 0);
        Assert.Equal(SyntheticHealth.Healthy, passed.GetProperty("health").GetString());
        Assert.Equal(60, passed.GetProperty("interval_s").GetDouble());
        Assert.True(passed.GetProperty("visible_at").GetDateTimeOffset() >= passed.GetProperty("acked_at").GetDateTimeOffset());
        var checkId = passed.GetProperty("check_id").GetGuid();

        var detail = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs/{checkId}");
        Assert.Equal(SyntheticChecks.CanaryApp, detail.GetProperty("job").GetProperty("app_name").GetString());
        Assert.Equal("succeeded", detail.GetProperty("job").GetProperty("status").GetString());

        // The Sidecar's ingest key reads the canary's job through /v1/synthetic/checks, and no other job, nor /v1/jobs.
        using var ingestKey = fab.AnonymousClient("localapi-fab1");
        ingestKey.DefaultRequestHeaders.Authorization = new("Bearer", fab.IngestKey("localapi-fab1"));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ingestKey.GetAsync($"/v1/synthetic/checks/{checkId}")).StatusCode);
        var lot = Guid.NewGuid();
        using var sidecar = fab.Client("sidecar-fab1");
        await Events.PostBatchAsync(sidecar, [Events.Job(lot, EventKinds.Started, DateTimeOffset.UtcNow, site: "fab1")]);
        await Events.Eventually(async () => (await localApi.GetAsync($"/v1/jobs/{lot}")).IsSuccessStatusCode, "the ordinary job stored", TimeSpan.FromSeconds(30));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await ingestKey.GetAsync($"/v1/synthetic/checks/{lot}")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await ingestKey.GetAsync($"/v1/jobs/{checkId}")).StatusCode);

        var listed = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?app_name={SyntheticChecks.CanaryApp}");
        Assert.Equal(0, listed.GetProperty("count").GetInt32());
        var withSynthetic = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?app_name={SyntheticChecks.CanaryApp}&include_synthetic=true");
        Assert.Contains(withSynthetic.GetProperty("items").EnumerateArray(), j => j.GetProperty("job_id").GetGuid() == checkId);

        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var stats = await localApi.GetFromJsonAsync<JsonElement>($"/v1/stats?from={from}");
        Assert.DoesNotContain(SyntheticChecks.CanaryApp, stats.GetRawText());
        var statsWith = await localApi.GetFromJsonAsync<JsonElement>($"/v1/stats?from={from}&include_synthetic=true");
        Assert.Contains(SyntheticChecks.CanaryApp, statsWith.GetRawText());

        using var csv = await localApi.GetAsync($"/v1/jobs?format=csv&from={from}");
        Assert.DoesNotContain(SyntheticChecks.CanaryApp, await csv.Content.ReadAsStringAsync());

        using var central = fab.Client("central");
        var merged = await central.GetFromJsonAsync<JsonElement>($"/v1/jobs?app_name={SyntheticChecks.CanaryApp}");
        Assert.Equal(0, merged.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task With_LocalApi_stopped_or_frozen_the_canary_fails_and_the_outage_shows_as_seconds_of_unavailability()
    {
        await using var rig = await SiteRig.StartAsync(fab, sidecarChecksSite: true, sidecarEnvironment: new Dictionary<string, string>
        {
            ["Synthetic__Enabled"] = "true",
            ["Synthetic__Interval"] = "1s",
            ["Synthetic__Timeout"] = "2s",
        });
        using var localApi = rig.Client("localapi");
        await Events.Eventually(async () => (await SummaryAsync(localApi)).GetProperty("recent").EnumerateArray()
            .Any(c => c.GetProperty("ok").GetBoolean() && c.GetProperty("health").GetString() == SyntheticHealth.Healthy),
            "the rig's canary passing with LocalApi healthy", TimeSpan.FromSeconds(60));

        // Stopped: every interval of the outage is unavailable, those whose check failed (reported once LocalApi is back)
        // and those no check started in (each failing check takes its 2 s timeout).
        var unavailableBefore = await UnavailableSecondsAsync(localApi);
        var stoppedAt = DateTimeOffset.UtcNow;
        await rig.LocalApi.StopForNowAsync();
        await Task.Delay(TimeSpan.FromSeconds(10));
        await rig.LocalApi.StartAgainAsync(CancellationToken.None);
        // Less the interval that ended as it stopped and the one whose check saw it come back, and the seconds' rounding.
        var outage = (DateTimeOffset.UtcNow - stoppedAt).TotalSeconds - 4;
        await Events.Eventually(async () => await UnavailableSecondsAsync(localApi) - unavailableBefore >= outage,
            $"at least {outage:0} more seconds unavailable", TimeSpan.FromSeconds(60));
        // Missing intervals count at once; the failed checks' results arrive when the Sidecar's report retry next runs.
        await Events.Eventually(async () => (await SummaryAsync(localApi)).GetProperty("recent").EnumerateArray()
            .Any(c => !c.GetProperty("ok").GetBoolean() && c.GetProperty("health").GetString() == SyntheticHealth.Unreachable),
            "the outage's unreachable checks recorded", TimeSpan.FromSeconds(90));
        var stopped = await AvailabilityAsync(localApi);
        Assert.True(stopped.GetProperty("measured").GetDouble() < 1);
        Assert.True(stopped.GetProperty("error_budget_left").GetDouble() < 1);

        // Frozen.
        // A check may fail while the fresh services warm up on a busy machine (2 s is a tight timeout); count from here.
        var failedBefore = (await SummaryAsync(localApi)).GetProperty("failed").GetInt64();

        var pid = rig.LocalApi.ProcessId ?? throw new InvalidOperationException("the LocalApi is not running");
        Assert.True(Posix.Signal(pid, SigStop));
        try
        {
            // Two checks' timeouts and a little more.
            await Task.Delay(TimeSpan.FromSeconds(7));
        }
        finally
        {
            Posix.Signal(pid, SigCont);
        }

        JsonElement summary = default;
        await Events.Eventually(async () =>
        {
            summary = await SummaryAsync(localApi);
            return summary.GetProperty("failed").GetInt64() > failedBefore;
        }, "the frozen period's failed checks recorded", TimeSpan.FromSeconds(60));
        var failure = summary.GetProperty("recent").EnumerateArray().First(c => !c.GetProperty("ok").GetBoolean());
        Assert.Contains("within 2 s", failure.GetProperty("error").GetString());
        Assert.True(summary.GetProperty("availability").GetDouble() < 1);

        var availability = await AvailabilityAsync(localApi);
        Assert.True(availability.GetProperty("measured").GetDouble() < 1);
        Assert.True(availability.GetProperty("error_budget_left").GetDouble() < 1);
        Assert.True(availability.GetProperty("burn_rates").GetProperty("5m").GetDouble() > 0);
    }
}
