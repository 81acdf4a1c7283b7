using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Tests.Infrastructure;
using static WaferMonitor.Tests.Central.CentralResponses;

namespace WaferMonitor.Tests.Central;

/// <summary>A CentralApi over private sites, one of which is frozen (SIGSTOP) and thawed; and the response cache.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralFaultTests(FabFixture fab)
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Fact]
    public async Task A_frozen_site_gives_partial_results_and_degraded_health_then_recovers()
    {
        await using var rig = await CentralRig.StartAsync(fab, siteCount: 3);
        var key = "frozen-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = new Dictionary<string, Guid>();
        foreach (var site in rig.Sites)
            jobs[site] = await rig.AddJobAsync(site, key);
        var frozen = rig.Sites[1];
        using var central = rig.Client("central");
        await Events.Eventually(async () =>
            (await central.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("status").GetString() == "ok",
            "central ok with every site up");

        var pid = rig.LocalApi(frozen).ProcessId ?? throw new InvalidOperationException("the LocalApi is not running");
        Assert.True(Posix.Signal(pid, SigStop));
        try
        {
            var (status, page, cache) = await GetAsync(central, $"/v1/jobs?business_key={key}", cached: true);
            Assert.Equal(200, status);
            Assert.True(page.GetProperty("partial").GetBoolean());
            Assert.Equal("timeout after 2s", page.GetProperty("site_errors").GetProperty(frozen).GetString());
            Assert.Equal(jobs.Where(j => j.Key != frozen).Select(j => j.Value).Order(), JobIds(page).Order());
            Assert.Equal("miss", cache);
            // A partial answer is never cached: the next request asks the sites again.
            var (_, again, againCache) = await GetAsync(central, $"/v1/jobs?business_key={key}", cached: true);
            Assert.Equal("miss", againCache);
            Assert.True(again.GetProperty("partial").GetBoolean());

            var (detailStatus, detail, _) = await GetAsync(central, $"/v1/jobs/{jobs[rig.Sites[0]]}");
            Assert.Equal(200, detailStatus);
            Assert.Equal(rig.Sites[0], detail.GetProperty("job").GetProperty("site_id").GetString());

            var (statsStatus, stats, _) = await GetAsync(central, "/v1/stats");
            Assert.Equal(200, statsStatus);
            Assert.True(stats.GetProperty("partial").GetBoolean());
            Assert.Equal("timeout after 2s", stats.GetProperty("site_errors").GetProperty(frozen).GetString());

            var (forwardStatus, _, _) = await GetAsync(central, $"/v1/jobs?site={rig.Sites[2]}&business_key={key}");
            Assert.Equal(200, forwardStatus);

            await Events.Eventually(async () =>
            {
                using var response = await central.GetAsync("/v1/healthz");
                var health = await response.Content.ReadFromJsonAsync<JsonElement>();
                return (int)response.StatusCode == 200 && health.GetProperty("status").GetString() == "degraded"
                    && health.GetProperty("checks").GetProperty("sites").GetProperty("detail").GetString()!.Contains(frozen);
            }, "central degraded naming the frozen site");
            var sites = (await central.GetFromJsonAsync<JsonElement>("/v1/sites")).GetProperty("sites").EnumerateArray()
                .ToDictionary(s => s.GetProperty("site_id").GetString()!);
            Assert.Equal("down", sites[frozen].GetProperty("status").GetString());
            Assert.Equal("timeout after 2s", sites[frozen].GetProperty("error").GetString());
            Assert.Equal("ok", sites[rig.Sites[0]].GetProperty("status").GetString());
            // v2's view of the same in /v1/healthz: the down site with its error, the others without one.
            var healthSites = (await central.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("sites");
            Assert.Equal("down", healthSites.GetProperty(frozen).GetProperty("status").GetString());
            Assert.Equal("timeout after 2s", healthSites.GetProperty(frozen).GetProperty("error").GetString());
            Assert.Equal("ok", healthSites.GetProperty(rig.Sites[0]).GetProperty("status").GetString());
            Assert.False(healthSites.GetProperty(rig.Sites[0]).TryGetProperty("error", out _));
        }
        finally
        {
            Posix.Signal(pid, SigCont);
        }

        await Events.Eventually(async () =>
            (await central.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("status").GetString() == "ok",
            "central ok again after the site thawed");
        await Events.Eventually(async () =>
        {
            var (_, page, _) = await GetAsync(central, $"/v1/jobs?business_key={key}");
            return !page.GetProperty("partial").GetBoolean() && JobIds(page).Order().SequenceEqual(jobs.Values.Order());
        }, "complete results from every site again");
    }

    [Fact]
    public async Task Fan_out_answers_are_cached_until_no_cache_refreshes_them()
    {
        await using var rig = await CentralRig.StartAsync(fab, siteCount: 2,
            new Dictionary<string, string> { ["Central__CacheTtl"] = "10m" });
        var key = "cache-" + Guid.NewGuid().ToString("N")[..8];
        var first = await rig.AddJobAsync(rig.Sites[0], key);
        using var central = rig.Client("central");
        var url = $"/v1/jobs?business_key={key}";

        var (_, miss, missCache) = await GetAsync(central, url, cached: true);
        Assert.Equal("miss", missCache);
        Assert.Equal([first], JobIds(miss));
        var (_, hit, hitCache) = await GetAsync(central, url, cached: true);
        Assert.Equal("hit", hitCache);
        Assert.Equal(miss.GetRawText(), hit.GetRawText());

        var second = await rig.AddJobAsync(rig.Sites[1], key);
        var (_, stale, staleCache) = await GetAsync(central, url, cached: true);
        Assert.Equal("hit", staleCache);
        Assert.Equal([first], JobIds(stale));

        var (_, refreshed, refreshedCache) = await GetAsync(central, url);
        Assert.Equal("miss", refreshedCache);
        Assert.Equal(new[] { first, second }.Order(), JobIds(refreshed).Order());
        var (_, afterRefresh, afterRefreshCache) = await GetAsync(central, url, cached: true);
        Assert.Equal("hit", afterRefreshCache);
        Assert.Equal(refreshed.GetRawText(), afterRefresh.GetRawText());

        // Another query is another entry.
        var (_, other, otherCache) = await GetAsync(central, url + "&limit=1", cached: true);
        Assert.Equal("miss", otherCache);
        Assert.Equal(1, other.GetProperty("count").GetInt32());
        var (_, stats, statsCache) = await GetAsync(central, "/v1/stats", cached: true);
        Assert.Equal("miss", statsCache);
        Assert.NotNull(stats.GetProperty("combined").GetProperty("counts").ToString());
    }
}
