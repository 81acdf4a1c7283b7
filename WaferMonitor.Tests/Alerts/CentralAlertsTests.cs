using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Tests.Central;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Alerts;

/// <summary>CentralApi's <c>GET /v1/alerts</c>: every site's alerts merged newest first, partial when a site is down.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralAlertsTests(FabFixture fab)
{
    private static async Task AddAlertAsync(string connectionString, string rule, string lot, string state)
    {
        var labels = JsonSerializer.Serialize(new Dictionary<string, string> { ["alertname"] = rule, ["business_key"] = lot });
        await Sql.QueryAsync(connectionString, """
            INSERT INTO alert (fingerprint, rule, severity, app, labels, annotations, state, active_at, fired_at, resolved_at)
            VALUES (md5(random()::text), @rule, 'warning', 'central-test', @labels::jsonb, '{"summary": "test"}'::jsonb, @state, now(), now(),
                    CASE WHEN @state = 'resolved' THEN now() END)
            """, ("rule", rule), ("labels", labels), ("state", state));
    }

    [Fact]
    public async Task Central_merges_every_sites_alerts_and_marks_a_missing_site_partial()
    {
        await using var rig = await CentralRig.StartAsync(fab, siteCount: 2);
        var rule = "central_" + Guid.NewGuid().ToString("N")[..8];
        var (first, second) = (rig.Sites[0], rig.Sites[1]);
        string Database(string site) => rig.App.Get<DatabaseResource>($"monitor-{site}").ConnectionString;
        // Migrations ran when each LocalApi started.
        await AddAlertAsync(Database(first), rule, "LOT-A", "firing");
        await AddAlertAsync(Database(second), rule, "LOT-B", "resolved");
        await AddAlertAsync(Database(second), rule, "LOT-C", "firing");
        using var central = rig.Client("central");

        // Both sites answer (on a loaded machine a first request may still time out on one of them, which is partial).
        JsonElement page = default;
        await Events.Eventually(async () =>
        {
            var (status, body, _) = await CentralResponses.GetAsync(central, $"/v1/alerts?rule={rule}&limit=2");
            page = body;
            return status == 200 && !body.GetProperty("partial").GetBoolean();
        }, "a complete answer from both sites", TimeSpan.FromSeconds(60));
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        var (_, rest, _) = await CentralResponses.GetAsync(central, $"/v1/alerts?rule={rule}&limit=2&cursor={page.GetProperty("next_cursor").GetString()}");
        items.AddRange(rest.GetProperty("items").EnumerateArray());
        Assert.Equal(["LOT-A", "LOT-B", "LOT-C"], items.Select(i => i.GetProperty("labels").GetProperty("business_key").GetString()).Order());
        Assert.Equal([first, second, second], items.Select(i => i.GetProperty("site_id").GetString()!).Order());

        var (_, firing, _) = await CentralResponses.GetAsync(central, $"/v1/alerts?rule={rule}&state=firing");
        Assert.Equal(2, firing.GetProperty("count").GetInt32());
        var (badStatus, _, _) = await CentralResponses.GetAsync(central, "/v1/alerts?state=burning");
        Assert.Equal(400, badStatus);

        await rig.LocalApi(second).StopForNowAsync();
        var (partialStatus, partial, _) = await CentralResponses.GetAsync(central, $"/v1/alerts?rule={rule}");
        Assert.Equal(200, partialStatus);
        Assert.True(partial.GetProperty("partial").GetBoolean());
        Assert.True(partial.GetProperty("site_errors").TryGetProperty(second, out _));
        Assert.Equal("LOT-A", partial.GetProperty("items").EnumerateArray().Single().GetProperty("labels").GetProperty("business_key").GetString());
    }
}
