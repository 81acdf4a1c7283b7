using Microsoft.Playwright;
using WaferMonitor.Rigs;
using WaferMonitor.Tests.Central;
using WaferMonitor.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace WaferMonitor.Tests.Pages;

/// <summary>The all-sites view CentralApi serves at <c>/</c>, and the drill-down into one site through CentralApi.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralPageTests(FabFixture fab)
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Fact]
    public async Task The_central_view_shows_every_site_and_drills_into_a_sites_jobs_through_central()
    {
        using var central = fab.Client("central");
        var tag = "c-" + Guid.NewGuid().ToString("N")[..6];
        foreach (var site in new[] { "fab1", "fab2" })
        {
            using var localApi = fab.Client($"localapi-{site}");
            await Lots.SeedShiftAsync(localApi, site, $"{tag}-{site}");
        }
        await using var chromium = await Chromium.LaunchAsync(fab.Token("localapi-fab1"));
        var page = await chromium.OpenAsync(central.BaseAddress!);
        foreach (var site in new[] { "fab1", "fab2" })
        {
            var row = page.Locator($"#sites tr[data-site={site}]");
            await Expect(row).ToHaveAttributeAsync("data-health", "ok", new() { Timeout = 30_000 });
            await Expect(row.Locator("td").Nth(8)).Not.ToHaveTextAsync("—");
        }
        await Expect(page.Locator("#partial")).ToBeHiddenAsync();
        await Screenshots.SaveAsync(page, "central-view.png");

        await page.ClickAsync("#sites a:text-is('fab2')");
        await page.WaitForURLAsync("**/sites/fab2");
        await Expect(page.Locator("#title")).ToHaveTextAsync("site fab2");
        await page.FillAsync("#f-key", $"{tag}-fab2-005");
        var job = page.Locator("#jobs tbody tr[data-job-id]");
        await Expect(job).ToHaveCountAsync(1);
        await Expect(page.Locator("#export")).ToBeHiddenAsync();
        await job.Locator("a").ClickAsync();
        await page.WaitForURLAsync("**/sites/fab2/jobs/*");
        await Expect(page.Locator(".wafer")).ToHaveCountAsync(25);
        await Expect(page.Locator(".wafer[data-status=failed]")).ToHaveCountAsync(2);
        await Expect(page.Locator("#facts")).ToContainTextAsync("fab2");
        chromium.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_central_view_shows_a_frozen_site_as_down_and_the_other_sites_still()
    {
        await using var rig = await CentralRig.StartAsync(fab, siteCount: 2);
        foreach (var site in rig.Sites)
            await rig.AddJobAsync(site, "frozen-page");
        using var central = rig.Client("central");
        await using var chromium = await Chromium.LaunchAsync(rig.App.AccessKey);
        var page = await chromium.OpenAsync(new Uri(central.BaseAddress!, "/?refresh=2"));
        var (up, frozen) = (rig.Sites[0], rig.Sites[1]);
        foreach (var site in rig.Sites)
            await Expect(page.Locator($"#sites tr[data-site={site}]")).ToHaveAttributeAsync("data-health", "ok", new() { Timeout = 30_000 });

        var pid = rig.LocalApi(frozen).ProcessId ?? throw new InvalidOperationException("the LocalApi is not running");
        Assert.True(Posix.Signal(pid, SigStop));
        try
        {
            var frozenRow = page.Locator($"#sites tr[data-site={frozen}]");
            await Expect(frozenRow).ToHaveAttributeAsync("data-health", "down", new() { Timeout = 30_000 });
            await Expect(frozenRow.Locator(".badge")).ToHaveTextAsync("down");
            await Expect(page.Locator("#partial")).ToContainTextAsync(frozen);
            await Expect(page.Locator($"#sites tr[data-site={up}]")).ToHaveAttributeAsync("data-health", "ok");
            await Expect(page.Locator($"#sites tr[data-site={up}] td").Nth(8)).ToHaveTextAsync("1");
            await Screenshots.SaveAsync(page, "central-view-site-down.png");
        }
        finally
        {
            Posix.Signal(pid, SigCont);
        }
        await Expect(page.Locator($"#sites tr[data-site={frozen}]")).ToHaveAttributeAsync("data-health", "ok", new() { Timeout = 30_000 });
        chromium.AssertNoConsoleErrors();
    }
}
