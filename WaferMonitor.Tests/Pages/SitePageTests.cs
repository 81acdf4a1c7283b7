using System.Net;
using Microsoft.Playwright;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace WaferMonitor.Tests.Pages;

/// <summary>The site view LocalApi serves at <c>/</c>, in Debian's Chromium against the fab's real services.</summary>
[Collection(FabCollection.Name)]
public sealed class SitePageTests(FabFixture fab)
{
    private static readonly LocatorAssertionsToHaveCountOptions Within30s = new() { Timeout = 30_000 };

    private static string Tag(string what) => $"{what}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task Without_a_token_the_site_view_asks_for_one_and_keeps_it_in_the_browser()
    {
        using var localApi = fab.Client("localapi-fab1");
        var key = Tag("token");
        await Events.PostBatchAsync(localApi, [Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, businessKey: key)]);
        await using var chromium = await Chromium.LaunchAsync(null);

        // Playwright dismisses the first prompt (no handler yet): the page shows no data and asks again on reload.
        var page = await chromium.OpenAsync(new Uri(localApi.BaseAddress!, $"/?business_key={key}"));
        await Expect(page.Locator($"#jobs a:text-is('{key}')")).ToHaveCountAsync(0);
        string? question = null;
        page.Dialog += async (_, dialog) =>
        {
            question = dialog.Message;
            await dialog.AcceptAsync(fab.Token("localapi-fab1"));
        };
        await page.ReloadAsync();

        await Expect(page.Locator($"#jobs a:text-is('{key}')")).ToHaveCountAsync(1, Within30s);
        Assert.Contains("read token", question);
        Assert.Equal(fab.Token("localapi-fab1"), await page.EvaluateAsync<string>("localStorage.getItem('wm-token')"));
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "open");
    }

    [Fact]
    public async Task The_site_view_renders_the_fabs_jobs_charts_and_breakdown_without_console_errors()
    {
        using var localApi = fab.Client("localapi-fab1");
        var tag = Tag("lot");
        await Lots.SeedShiftAsync(localApi, "fab1", tag);
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));

        var page = await chromium.OpenAsync(localApi.BaseAddress!);
        await Expect(page.Locator("#jobs tbody tr[data-job-id]").First).ToBeVisibleAsync();
        await Expect(page.Locator($"#jobs a:text-is('{tag}-023')")).ToHaveCountAsync(1, Within30s);
        await Expect(page.Locator("#title")).ToHaveTextAsync("site fab1");
        await Expect(page.Locator("#health")).ToHaveTextAsync("ok");
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "open");
        Assert.NotEqual("–", await page.Locator("#kpi-succeeded").TextContentAsync());
        await Expect(page.Locator("#apps tbody tr", new() { HasText = "etch-process" })).ToHaveCountAsync(1);
        // Times are the site's, with UTC on hover.
        Assert.Contains("UTC 20", await page.Locator("#jobs tbody time").First.GetAttributeAsync("title"));
        // Nothing the pages use comes from elsewhere: every script and stylesheet is this service's.
        var external = await page.EvaluateAsync<string[]>(
            "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))");
        Assert.Empty(external);
        // The alerts and sidecars panels appear only on a LocalApi that has those APIs.
        foreach (var panel in new[] { "alerts", "sidecars" })
        {
            using var probe = await localApi.GetAsync($"/v1/{panel}");
            Assert.Equal(probe.StatusCode != HttpStatusCode.NotFound, await page.Locator($"#{panel}-panel").IsVisibleAsync());
        }
        await Screenshots.SaveAsync(page, "site-view.png");
        await page.ClickAsync("#theme");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await Screenshots.SaveAsync(page, "site-view-dark.png");

        chromium.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_filter_changes_the_table_and_the_url_and_the_url_restores_the_filter()
    {
        using var localApi = fab.Client("localapi-fab1");
        var app = new AppRef(Guid.NewGuid(), Tag("sorter"), "1.0.0");
        var other = new AppRef(Guid.NewGuid(), Tag("implant"), "1.0.0");
        var now = DateTimeOffset.UtcNow;
        var failed = await Lots.PostAsync(localApi, "fab1", app, Tag("lot"), now.AddMinutes(-30), [EntityStatuses.Failed, EntityStatuses.Succeeded]);
        await Lots.PostAsync(localApi, "fab1", app, Tag("lot"), now.AddMinutes(-20), [EntityStatuses.Succeeded]);
        await Lots.PostAsync(localApi, "fab1", other, Tag("lot"), now.AddMinutes(-10), [EntityStatuses.Failed]);
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));
        var page = await chromium.OpenAsync(localApi.BaseAddress!);
        await Expect(page.Locator("#jobs tbody tr[data-job-id]").First).ToBeVisibleAsync();

        await page.FillAsync("#f-app", app.Name);
        await Expect(page.Locator("#jobs tbody tr[data-job-id]")).ToHaveCountAsync(2);
        await page.CheckAsync("input[name=status][value=failed]");
        await Expect(page.Locator("#jobs tbody tr[data-job-id]")).ToHaveCountAsync(1);
        await Expect(page.Locator($"#jobs tbody tr[data-job-id='{failed}']")).ToHaveCountAsync(1);
        var url = new Uri(page.Url);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal(app.Name, query["app_name"]);
        Assert.Equal("failed", query["status"]);

        // The URL is the view: opened elsewhere it shows the same filter and rows.
        var shared = await chromium.OpenAsync(url);
        await Expect(shared.Locator("#jobs tbody tr[data-job-id]")).ToHaveCountAsync(1);
        await Expect(shared.Locator($"#jobs tbody tr[data-job-id='{failed}']")).ToHaveCountAsync(1);
        Assert.Equal(app.Name, await shared.InputValueAsync("#f-app"));
        Assert.True(await shared.IsCheckedAsync("input[name=status][value=failed]"));
        Assert.False(await shared.IsCheckedAsync("input[name=status][value=succeeded]"));

        // Back returns to the unfiltered-by-status view.
        await page.GoBackAsync();
        await Expect(page.Locator("#jobs tbody tr[data-job-id]")).ToHaveCountAsync(2);
        chromium.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task An_event_sent_to_the_sidecar_appears_in_the_open_page_without_reload()
    {
        using var localApi = fab.Client("localapi-fab1");
        using var sidecar = fab.Client("sidecar-fab1");
        var key = Tag("live");
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));
        var page = await chromium.OpenAsync(new Uri(localApi.BaseAddress!, $"/?business_key={key}&refresh=0"));
        await Expect(page.Locator("#jobs td.empty")).ToHaveCountAsync(1);
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "open");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        var jobId = Guid.NewGuid();
        await Events.PostBatchAsync(sidecar, [Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow.AddSeconds(-2), businessKey: key)]);
        var row = page.Locator($"#jobs tbody tr[data-job-id='{jobId}']");
        await Expect(row).ToHaveAttributeAsync("data-status", "running", new() { Timeout = 15_000 });

        await Events.PostBatchAsync(sidecar, [Events.Job(jobId, EventKinds.Finished, DateTimeOffset.UtcNow, status: EntityStatuses.Failed, businessKey: key)]);
        await Expect(row).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 15_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        chromium.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_csv_export_button_downloads_exactly_the_filtered_rows()
    {
        using var localApi = fab.Client("localapi-fab1");
        var app = new AppRef(Guid.NewGuid(), Tag("export"), "1.0.0");
        var now = DateTimeOffset.UtcNow;
        var expected = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var id = await Lots.PostAsync(localApi, "fab1", app, Tag("lot"), now.AddMinutes(-50 + i),
                [i % 2 == 0 ? EntityStatuses.Failed : EntityStatuses.Succeeded]);
            if (i % 2 == 0)
                expected.Add(id);
        }
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));
        var page = await chromium.OpenAsync(new Uri(localApi.BaseAddress!, $"/?app_name={app.Name}&status=failed&limit=25"));
        await Expect(page.Locator("#jobs tbody tr[data-job-id]")).ToHaveCountAsync(3);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export"));
        Assert.Equal("jobs.csv", download.SuggestedFilename);
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).ToList();
        Assert.StartsWith("job_id,site_id,app_id,app_name", lines[0]);
        var ids = lines.Skip(1).Select(line => Guid.Parse(line[..36])).ToList();
        Assert.Equal(expected.Order(), ids.Order());
        Assert.All(lines.Skip(1), line => Assert.Contains(",failed,", line));
        chromium.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_job_detail_shows_the_lots_wafers_with_the_failed_ones_and_the_error()
    {
        using var localApi = fab.Client("localapi-fab1");
        var key = Tag("lot");
        var statuses = Enumerable.Range(1, 25).Select(w => (string?)(w is 4 or 19 ? EntityStatuses.Failed : EntityStatuses.Succeeded)).ToList();
        var jobId = await Lots.PostAsync(localApi, "fab1", Events.App, key, DateTimeOffset.UtcNow.AddMinutes(-15), statuses);
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));

        var list = await chromium.OpenAsync(new Uri(localApi.BaseAddress!, $"/?business_key={key}"));
        await list.ClickAsync($"#jobs a:text-is('{key}')");
        await list.WaitForURLAsync($"**/jobs/{jobId}");
        var page = list;
        await Expect(page.Locator(".wafer")).ToHaveCountAsync(25);
        var failed = page.Locator(".wafer[data-status=failed]");
        await Expect(failed).ToHaveCountAsync(2);
        await Expect(failed.Nth(0)).ToContainTextAsync("wafer-04");
        await Expect(failed.Nth(1)).ToContainTextAsync("wafer-19");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("failed");
        await Expect(page.Locator("#job-error")).ToContainTextAsync("2 wafers failed");
        await Expect(page.Locator("#job-error")).ToContainTextAsync("failed wafers: wafer-04, wafer-19");
        await Expect(page.Locator("#wafer-table tr[data-status=failed]", new() { HasText = "chuck vacuum lost on wafer-19" })).ToHaveCountAsync(1);
        await Expect(page.Locator("#timeline li")).ToHaveCountAsync(2);
        await Expect(page.Locator("#metadata")).ToContainTextAsync("ETCH-42");
        await Screenshots.SaveAsync(page, "job-view.png");
        chromium.AssertNoConsoleErrors();
    }
}
