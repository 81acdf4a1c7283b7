using System.Diagnostics;
using System.Net;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Fab;

[Collection(FabCollection.Name)]
public sealed class RestartTests(FabFixture fab)
{
    [Fact]
    public async Task A_crashed_service_is_restarted_on_the_same_url()
    {
        var url = fab.Endpoint("central");
        var crashed = fab.ProcessId("central");
        Process.GetProcessById(crashed).Kill();

        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
        await Events.Eventually(async () =>
        {
            try
            {
                return fab.ProcessId("central") != crashed && (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                return false;
            }
        }, "central to come back", TimeSpan.FromSeconds(60));
        Assert.Equal(url, fab.Endpoint("central"));
    }
}
