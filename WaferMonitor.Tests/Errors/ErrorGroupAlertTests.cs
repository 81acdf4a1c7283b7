using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.LocalApi.Alerts;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Errors;

/// <summary>The rule kinds new_error_group and regressed_error_group: configured, and evaluated on a private site.</summary>
[Collection(FabCollection.Name)]
public sealed class ErrorGroupAlertTests(FabFixture fab)
{
    [Fact]
    public void The_error_group_kinds_need_no_threshold_and_regressed_defaults_to_a_quiet_day()
    {
        var (rules, errors) = AlertRuleSet.Build(new AlertsOptions
        {
            Rules = new()
            {
                ["new_fault"] = new() { Kind = AlertKinds.NewErrorGroup },
                ["fault_back"] = new() { Kind = AlertKinds.RegressedErrorGroup },
                ["fault_back_3d"] = new() { Kind = AlertKinds.RegressedErrorGroup, Threshold = "3d" },
            },
        });
        Assert.Empty(errors);
        Assert.Null(rules.All.Single(r => r.Name == "new_fault").Threshold);
        Assert.Equal(TimeSpan.FromHours(24).TotalSeconds, rules.All.Single(r => r.Name == "fault_back").Threshold);
        Assert.Equal(TimeSpan.FromDays(3).TotalSeconds, rules.All.Single(r => r.Name == "fault_back_3d").Threshold);
        var (_, bad) = AlertRuleSet.Build(new AlertsOptions { Rules = new() { ["x"] = new() { Kind = AlertKinds.RegressedErrorGroup, Threshold = "often" } } });
        Assert.Contains(bad, e => e.Key == "Rules:x");
        Assert.False(rules.All.Single(r => r.Name == "new_fault").MatchesApp(SyntheticChecks.CanaryApp));
    }

    [Fact]
    public async Task A_new_group_and_a_regressed_group_each_fire_one_alert_labelled_by_fingerprint()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Alerts__EvaluationInterval"] = "300ms",
            ["Alerts__Rules__new_fault__Kind"] = "new_error_group",
            ["Alerts__Rules__new_fault__App"] = "etch-*",
            ["Alerts__Rules__fault_back__Kind"] = "regressed_error_group",
            ["Alerts__Rules__fault_back__Window"] = "1h",
        });
        using var localApi = rig.Client("localapi");
        var app = new AppRef(Guid.NewGuid(), "etch-alerts", "1.0.0");
        var now = DateTimeOffset.UtcNow;
        WireEvent Failure(DateTimeOffset at, string type, string message) =>
            Events.Job(Guid.NewGuid(), EventKinds.Error, at, site: rig.Site, app: app, metadata: new { error_type = type, error = message });
        await Events.PostBatchAsync(localApi,
        [
            Failure(now.AddDays(-2), "VacuumLost", "chuck 1 vacuum low"),
            Failure(now.AddMinutes(-10), "VacuumLost", "chuck 2 vacuum low"),
            Failure(now.AddMinutes(-1), "ChamberFault", "pressure 7"),
            Failure(now.AddSeconds(-30), "ChamberFault", "pressure 8"),
        ]);

        var groups = (await localApi.GetFromJsonAsync<JsonElement>($"/v1/errors?app={app.Name}&from={Uri.EscapeDataString(now.AddHours(-1).ToString("O"))}"))
            .GetProperty("items").EnumerateArray().ToDictionary(g => g.GetProperty("error_type").GetString()!, g => g.GetProperty("fingerprint").GetString()!);
        JsonElement[] firing = [];
        await Events.Eventually(async () =>
        {
            var page = await localApi.GetFromJsonAsync<JsonElement>("/v1/alerts?state=firing");
            firing = [.. page.GetProperty("items").EnumerateArray()];
            return firing.Any(a => a.GetProperty("rule").GetString() == "new_fault") && firing.Any(a => a.GetProperty("rule").GetString() == "fault_back");
        }, "new_fault and fault_back firing", TimeSpan.FromSeconds(45));
        var newFault = Assert.Single(firing, a => a.GetProperty("rule").GetString() == "new_fault");
        Assert.Equal(groups["ChamberFault"], newFault.GetProperty("labels").GetProperty("fingerprint").GetString());
        Assert.Contains("ChamberFault: pressure <n>", newFault.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.EndsWith($"/v1/errors/{groups["ChamberFault"]}", newFault.GetProperty("annotations").GetProperty("link").GetString());
        var back = Assert.Single(firing, a => a.GetProperty("rule").GetString() == "fault_back");
        Assert.Equal(groups["VacuumLost"], back.GetProperty("labels").GetProperty("fingerprint").GetString());
        Assert.Equal(app.Name, back.GetProperty("labels").GetProperty("app").GetString());
    }
}
