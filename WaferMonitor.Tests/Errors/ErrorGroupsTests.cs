using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Errors;

/// <summary>
/// Error groups end to end on the shared fab: failures posted to the sites' LocalApis are fingerprinted as they are
/// stored, listed by <c>/v1/errors</c> with counts, hours, lots and wafers and new/regressed flags, paged by
/// <c>/v1/errors/{fingerprint}</c>, and merged by CentralApi. Each test uses its own app, so groups do not mix.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class ErrorGroupsTests(FabFixture fab)
{
    private static AppRef NewApp() => new(Guid.NewGuid(), "etch-" + Guid.NewGuid().ToString("N")[..8], "1.0.0");

    private static WireEvent JobError(AppRef app, DateTimeOffset at, string lot, string message, string site = "fab1", object? extra = null) =>
        Events.Job(Guid.NewGuid(), EventKinds.Error, at, site: site, businessKey: lot, app: app,
            metadata: extra ?? new { error_type = "ChamberFault", error = message });

    private static WireEvent WaferFailed(AppRef app, Guid jobId, DateTimeOffset at, string wafer, string message, string site = "fab1") =>
        new(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Subjob, Guid.NewGuid(), jobId, null, wafer),
            new EventBody(EventKinds.Finished, at, EntityStatuses.Failed, null, Events.ToElement(new { error_type = "ChamberFault", error = message })));

    private static async Task<List<JsonElement>> GroupsAsync(HttpClient client, string query)
    {
        var body = await client.GetFromJsonAsync<JsonElement>($"/v1/errors?{query}");
        return [.. body.GetProperty("items").EnumerateArray()];
    }

    private static string Stamp(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    [Fact]
    public async Task Failures_differing_only_in_ids_form_one_group_with_counts_hours_lots_and_wafers()
    {
        var app = NewApp();
        var now = DateTimeOffset.UtcNow;
        var lotJob = Guid.NewGuid();
        using var localApi = fab.Client("localapi-fab1");
        await Events.PostBatchAsync(localApi,
        [
            JobError(app, now.AddMinutes(-90), "LOT-1", "chamber 3 pressure 12.5 mTorr"),
            JobError(app, now.AddMinutes(-30), "LOT-2", "chamber 7 pressure 9 mTorr"),
            Events.Job(lotJob, EventKinds.Started, now.AddMinutes(-20), businessKey: "LOT-3", app: app),
            WaferFailed(app, lotJob, now.AddMinutes(-10), "W01", "chamber 1 pressure 3 mTorr"),
            WaferFailed(app, lotJob, now.AddMinutes(-9), "W02", "chamber 1 pressure 4 mTorr"),
            JobError(app, now.AddMinutes(-5), "LOT-4", "", extra: new { error_type = "VacuumLost", error = "vacuum lost on chuck 2" }),
        ]);

        var from = now.AddHours(-3);
        var groups = await GroupsAsync(localApi, $"app={app.Name}&from={Stamp(from)}&to={Stamp(now)}");
        Assert.Equal(2, groups.Count);
        var chamber = groups[0];
        Assert.Equal("ChamberFault: chamber <n> pressure <n> mTorr", chamber.GetProperty("title").GetString());
        Assert.Equal(4, chamber.GetProperty("count").GetInt64());
        Assert.Equal(app.Name, chamber.GetProperty("app").GetString());
        Assert.True(chamber.GetProperty("new").GetBoolean());
        Assert.Equal("new", chamber.GetProperty("status").GetString());
        Assert.Equal(3, chamber.GetProperty("lots").GetProperty("total").GetInt64());
        Assert.Equal(["LOT-1", "LOT-2", "LOT-3"], chamber.GetProperty("lots").GetProperty("examples").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, chamber.GetProperty("wafers").GetProperty("total").GetInt64());
        Assert.Equal(["W01", "W02"], chamber.GetProperty("wafers").GetProperty("examples").EnumerateArray().Select(e => e.GetString()));
        var hourly = chamber.GetProperty("hourly").GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToList();
        Assert.Equal(4, hourly.Sum());
        Assert.Equal(4, hourly.Count);
        Assert.Equal(4, chamber.GetProperty("sites").GetProperty("fab1").GetInt64());
        Assert.Equal("VacuumLost: vacuum lost on chuck <n>", groups[1].GetProperty("title").GetString());

        // Occurrences, newest stored first, two per page.
        var fingerprint = chamber.GetProperty("fingerprint").GetString()!;
        var seen = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await localApi.GetFromJsonAsync<JsonElement>($"/v1/errors/{fingerprint}?limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(items.Count <= 2);
            seen.AddRange(items);
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(4, seen.Count);
        Assert.Contains(seen, o => o.GetProperty("business_key").GetString() == "LOT-3" && o.GetProperty("sub_key").GetString() == "W01");
        Assert.Contains(seen, o => o.GetProperty("message").GetString() == "chamber 3 pressure 12.5 mTorr");
    }

    [Fact]
    public async Task A_group_seen_again_after_a_quiet_day_is_regressed_and_one_seen_throughout_is_ongoing()
    {
        var app = NewApp();
        var now = DateTimeOffset.UtcNow;
        using var localApi = fab.Client("localapi-fab1");
        await Events.PostBatchAsync(localApi,
        [
            JobError(app, now.AddDays(-3), "LOT-1", "recipe 17 failed"),
            JobError(app, now.AddMinutes(-20), "LOT-2", "recipe 18 failed"),
            JobError(app, now.AddHours(-2), "LOT-3", "", extra: new { error_type = "Drift", error = "drift 5" }),
            JobError(app, now.AddMinutes(-10), "LOT-4", "", extra: new { error_type = "Drift", error = "drift 6" }),
            JobError(app, now.AddMinutes(-5), "LOT-5", "", extra: new { error_type = "Fresh", error = "first time" }),
        ]);
        var range = $"app={app.Name}&from={Stamp(now.AddHours(-1))}&to={Stamp(now)}";
        var groups = await GroupsAsync(localApi, range);
        Assert.Equal(3, groups.Count);
        string StatusOf(string errorType) => groups.Single(g => g.GetProperty("error_type").GetString() == errorType).GetProperty("status").GetString()!;
        Assert.Equal("regressed", StatusOf("ChamberFault"));
        Assert.Equal("ongoing", StatusOf("Drift"));
        Assert.Equal("new", StatusOf("Fresh"));
        var regressed = Assert.Single(await GroupsAsync(localApi, range + "&status=regressed"));
        Assert.Equal("ChamberFault", regressed.GetProperty("error_type").GetString());
        Assert.Equal(now.AddDays(-3).ToUnixTimeSeconds(), regressed.GetProperty("first_seen").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.Equal(2, (await GroupsAsync(localApi, range + "&status=new,ongoing")).Count);

        using var unfiltered = await localApi.GetAsync("/v1/errors");
        Assert.Equal(200, (int)unfiltered.StatusCode);
        using var badStatus = await localApi.GetAsync("/v1/errors?status=resolved");
        Assert.Equal(400, (int)badStatus.StatusCode);
    }

    [Fact]
    public async Task Central_merges_one_fingerprint_from_two_sites_into_one_group_with_per_site_counts()
    {
        var app = NewApp();
        var now = DateTimeOffset.UtcNow;
        using (var fab1 = fab.Client("localapi-fab1"))
            await Events.PostBatchAsync(fab1, [JobError(app, now.AddMinutes(-30), "LOT-1", "pressure 1"), JobError(app, now.AddMinutes(-20), "LOT-2", "pressure 2")]);
        using (var fab2 = fab.Client("localapi-fab2"))
            await Events.PostBatchAsync(fab2, [JobError(app, now.AddMinutes(-10), "LOT-9", "pressure 9", site: "fab2")]);

        using var central = fab.Client("central");
        var body = await central.GetFromJsonAsync<JsonElement>($"/v1/errors?app={app.Name}&from={Stamp(now.AddHours(-1))}&to={Stamp(now)}");
        Assert.False(body.GetProperty("partial").GetBoolean());
        var group = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal(3, group.GetProperty("count").GetInt64());
        Assert.Equal(2, group.GetProperty("sites").GetProperty("fab1").GetInt64());
        Assert.Equal(1, group.GetProperty("sites").GetProperty("fab2").GetInt64());
        Assert.Equal(["LOT-1", "LOT-2", "LOT-9"], group.GetProperty("lots").GetProperty("examples").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("new", group.GetProperty("status").GetString());

        var occurrences = await central.GetFromJsonAsync<JsonElement>($"/v1/errors/{group.GetProperty("fingerprint").GetString()}?limit=10");
        Assert.Equal(3, occurrences.GetProperty("count").GetInt32());
        Assert.Equal(["fab1", "fab2"], occurrences.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("site_id").GetString()).Distinct().Order());
    }
}
