using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sla;

/// <summary><c>GET /v1/sla</c> at a site and at CentralApi over the shared fab, whose canaries give availability samples.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralSlaTests(FabFixture fab)
{
    private static JsonElement Objective(JsonElement report, string name) =>
        report.GetProperty("objectives").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    [Fact]
    public async Task Each_site_reports_its_objectives_and_central_judges_their_summed_counts()
    {
        using var central = fab.Client("central");
        JsonElement report = default;
        await Events.Eventually(async () =>
        {
            report = await central.GetFromJsonAsync<JsonElement>("/v1/sla");
            return Objective(report, "availability").GetProperty("total").GetInt64() >= 2;
        }, "both canaries' checks in central's SLA", TimeSpan.FromSeconds(90));

        Assert.False(report.GetProperty("partial").GetBoolean());
        Assert.Equal("30d", report.GetProperty("window").GetString());
        var sites = report.GetProperty("sites");
        foreach (var name in new[] { "availability", "error_rate", "latency_ingest", "latency_query" })
        {
            var combined = Objective(report, name);
            var fab1 = Objective(sites.GetProperty("fab1"), name);
            var fab2 = Objective(sites.GetProperty("fab2"), name);
            Assert.Equal(fab1.GetProperty("total").GetInt64() + fab2.GetProperty("total").GetInt64(), combined.GetProperty("total").GetInt64());
            Assert.Equal(fab1.GetProperty("good").GetInt64() + fab2.GetProperty("good").GetInt64(), combined.GetProperty("good").GetInt64());
        }
        var availability = Objective(report, "availability");
        Assert.Equal(0.995, availability.GetProperty("objective").GetDouble());
        var (good, total) = (availability.GetProperty("good").GetInt64(), availability.GetProperty("total").GetInt64());
        Assert.Equal((double)good / total, availability.GetProperty("measured").GetDouble(), 9);
        Assert.Equal(1 - (total - good) / (0.005 * total), availability.GetProperty("error_budget_left").GetDouble(), 9);

        // Central's own requests are judged apart, never summed into the fab's objectives.
        var own = report.GetProperty("central_api");
        Assert.Equal(["error_rate", "latency_query"], own.GetProperty("objectives").EnumerateArray().Select(o => o.GetProperty("name").GetString()!));
        Assert.True(own.GetProperty("recorded_since").GetDateTimeOffset() <= report.GetProperty("evaluated_at").GetDateTimeOffset());

        using var localApi = fab.Client("localapi-fab1");
        var site = await localApi.GetFromJsonAsync<JsonElement>("/v1/sla");
        Assert.Equal("fab1", site.GetProperty("scope").GetString());
        Assert.Equal(0.99, Objective(site, "error_rate").GetProperty("objective").GetDouble(), 9);
        Assert.Equal(0.95, Objective(site, "latency_query").GetProperty("objective").GetDouble(), 9);
    }
}
