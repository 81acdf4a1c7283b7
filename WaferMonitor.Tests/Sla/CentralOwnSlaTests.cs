using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Tests.Central;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sla;

/// <summary>CentralApi's own requests in its <c>GET /v1/sla</c>: its 5xx answers (a forward to a stopped site) counted apart from the sites'.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralOwnSlaTests(FabFixture fab)
{
    private static JsonElement Objective(JsonElement levels, string name) =>
        levels.GetProperty("objectives").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    [Fact]
    public async Task Central_counts_its_own_query_requests_and_their_5xx_answers()
    {
        await using var rig = await CentralRig.StartAsync(fab, siteCount: 1, new Dictionary<string, string>
        {
            ["Central__CacheTtl"] = "0s",
            ["Central__ForwardTimeout"] = "2s",
            ["Resilience__Http__MaxRetryAttempts"] = "0",
        });
        var site = rig.Sites[0];
        using var central = rig.Client("central");
        var startedBefore = DateTimeOffset.UtcNow;
        for (var i = 0; i < 4; i++)
            Assert.Equal(200, (int)(await central.GetAsync("/v1/jobs")).StatusCode);
        await rig.LocalApi(site).StopForNowAsync();
        for (var i = 0; i < 2; i++)
            Assert.True((int)(await central.GetAsync($"/v1/jobs?site={site}")).StatusCode >= 500);

        // Each GET /v1/sla is a query request too (200, counted once it has ended): total grows, the 5xx stay two.
        JsonElement own = default;
        await Events.Eventually(async () =>
        {
            own = (await central.GetFromJsonAsync<JsonElement>("/v1/sla")).GetProperty("central_api");
            var month = Objective(own, "error_rate").GetProperty("windows").GetProperty("30d");
            return month.GetProperty("total").GetInt64() >= 7;
        }, "central's own requests in its SLA");
        var errorRate = Objective(own, "error_rate");
        var (good, total) = (errorRate.GetProperty("good").GetInt64(), errorRate.GetProperty("total").GetInt64());
        Assert.Equal(2, total - good);
        Assert.Equal(0.99, errorRate.GetProperty("objective").GetDouble(), 9);
        Assert.Equal((double)good / total, errorRate.GetProperty("measured").GetDouble(), 9);
        Assert.Equal(2.0 / total / 0.01, errorRate.GetProperty("burn_rates").GetProperty("5m").GetDouble(), 9);
        var latency = Objective(own, "latency_query");
        Assert.Equal(0.95, latency.GetProperty("objective").GetDouble(), 9);
        Assert.Equal(total, latency.GetProperty("total").GetInt64());
        Assert.InRange(own.GetProperty("recorded_since").GetDateTimeOffset(), startedBefore.AddMinutes(-2), startedBefore);
    }
}
