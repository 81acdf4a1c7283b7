using System.Diagnostics;
using System.Net;
using WaferMonitor.AppHost.Hosting;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Fab;

[Collection(FabCollection.Name)]
public sealed class RestartTests(FabFixture fab)
{
    [Fact]
    public async Task A_crashed_service_is_restarted_on_the_same_url()
    {
        var central = fab.App.Get<ProjectResource>("central");
        var url = central.Url;
        var restartsBefore = central.Restarts;
        Process.GetProcessById(central.ProcessId!.Value).Kill();

        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
        await Events.Eventually(async () =>
        {
            try
            {
                return central.Restarts > restartsBefore && (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "central to come back", TimeSpan.FromSeconds(30));
        Assert.Equal(url, central.Url);
    }
}
