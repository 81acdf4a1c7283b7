using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sdk;

/// <summary>The README's example fab application, run as a process against the real Sidecar; LocalApi must hold the lot.</summary>
[Collection(FabCollection.Name)]
public sealed class ExampleLotIntegrationTests(FabFixture fab)
{
    [Fact]
    public async Task The_example_lot_arrives_with_the_right_statuses_and_metrics()
    {
        var lot = Random.Shared.Next(1_000_000, 9_999_999);
        var (exitCode, output) = await RunExampleAsync(
            "--sidecar", fab.Endpoint("sidecar-fab1").ToString().TrimEnd('/'), "--site", "fab1", "--lot", lot.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, output);
        Assert.Contains("all events delivered, 0 dropped", output);

        using var localApi = fab.Client("localapi-fab1");
        JsonElement job = default;
        await Events.Eventually(async () =>
        {
            var page = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key=lot-{lot}");
            if (page.GetProperty("count").GetInt32() != 1)
                return false;
            job = page.GetProperty("items")[0];
            return job.GetProperty("status").GetString() != "running" && job.GetProperty("subjobs").GetProperty("total").GetInt32() == 25
                && job.GetProperty("subjobs").GetProperty("running").GetInt32() == 0;
        }, "the lot to be stored and settled");

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(24, job.GetProperty("subjobs").GetProperty("succeeded").GetInt32());
        Assert.Equal(1, job.GetProperty("subjobs").GetProperty("failed").GetInt32());
        Assert.Equal(1, job.GetProperty("metadata").GetProperty("wafers_failed").GetInt32());
        Assert.True(job.GetProperty("duration_s").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Number, job.GetProperty("cpu_user_s").ValueKind);
        Assert.True(job.GetProperty("mem_max_mb").GetDouble() > 0);

        var failed = await localApi.GetFromJsonAsync<JsonElement>($"/v1/subjobs?job_id={job.GetProperty("job_id").GetGuid()}&status=failed");
        var wafer = Assert.Single(failed.GetProperty("items").EnumerateArray());
        Assert.Equal("wafer-13", wafer.GetProperty("sub_key").GetString());
        Assert.Equal("WaferRejectedException", wafer.GetProperty("metadata").GetProperty("error_type").GetString());
        Assert.Contains("particle count", wafer.GetProperty("metadata").GetProperty("error").GetString());
        Assert.True(wafer.GetProperty("mem_max_mb").GetDouble() > 0);
    }

    private static async Task<(int ExitCode, string Output)> RunExampleAsync(params string[] arguments)
    {
        using var process = Process.Start(BuiltAssembly.StartInfo(Path.Combine("examples", "WaferLot"), "WaferLot", arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
