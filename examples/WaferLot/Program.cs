// Processes one lot of 25 wafers under WaferMonitor: the lot is a job, each wafer a subjob, wafer 13 fails.
//   dotnet run --project examples/WaferLot -- --sidecar http://127.0.0.1:8000 --site fab1 --lot 42
// Settings also come from the environment: SIDECAR_URL, WaferMonitor__SiteId, WaferMonitor__* (docs/sdk.md).
using Microsoft.Extensions.Configuration;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

const int WaferCount = 25;
const int FailingWafer = 13;

var configuration = new ConfigurationBuilder()
    .AddEnvironmentVariables()
    .AddCommandLine(args, new Dictionary<string, string>
    {
        ["--sidecar"] = "WaferMonitor:SidecarUrl",
        ["--site"] = "WaferMonitor:SiteId",
        ["--lot"] = "Lot",
    })
    .Build();

var options = MonitorOptions.FromConfiguration(configuration);
options.SiteId ??= "fab1";
options.App ??= new AppRef(MonitorOptions.DeriveAppId("wafer-lot-example"), "wafer-lot-example", "1.0.0");
var lot = $"lot-{configuration["Lot"] ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)}";

await using var client = new MonitorClient(options);
var failed = 0;
await client.StartJob(lot, new { product = "PX-200", wafers = WaferCount }).RunAsync(async job =>
{
    for (var slot = 1; slot <= WaferCount; slot++)
    {
        try
        {
            var current = slot;
            await job.StartSubjob($"wafer-{slot:D2}", new { slot }).RunAsync(wafer => ProcessWaferAsync(wafer, current));
        }
        catch (WaferRejectedException)
        {
            // Already recorded as the wafer's failure; a scrapped wafer does not stop the lot.
            failed++;
        }
        job.Tick((double)slot / WaferCount);
    }
    job.Complete(new { wafers_failed = failed });
});

var delivered = await client.FlushAsync(TimeSpan.FromSeconds(30));
Console.WriteLine($"{lot}: {WaferCount} wafers, {failed} failed; sidecar {client.SidecarUrl}; " +
    (delivered ? "all events delivered" : $"{client.PendingEvents} events not delivered") + $", {client.DroppedEvents} dropped");
return delivered && client.DroppedEvents == 0 ? 0 : 1;

static async Task ProcessWaferAsync(MonitorScope wafer, int slot)
{
    string[] steps = ["align", "expose", "inspect"];
    for (var i = 0; i < steps.Length; i++)
    {
        await Task.Delay(5);
        wafer.Tick((i + 1.0) / steps.Length, new { step = steps[i] });
    }
    wafer.Metric("film_thickness_nm", 800 + slot * 1.5);
    if (slot == FailingWafer)
        throw new WaferRejectedException($"wafer-{slot:D2}: particle count 412 over limit 100");
}

internal sealed class WaferRejectedException(string message) : Exception(message);
