using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Cli;

/// <summary>
/// The verbs for scripts (<c>start</c>, <c>finish</c>, <c>fail</c>, subjobs through <c>--parent</c>) and for reading
/// a site (<c>jobs</c>, <c>tail</c>), run as processes against the real fab.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class CliStepAndReadTests(FabFixture fab)
{
    private string Sidecar => fab.Endpoint("sidecar-fab1").ToString().TrimEnd('/');

    private string LocalApi => fab.Endpoint("localapi-fab1").ToString().TrimEnd('/');

    [Fact]
    public async Task A_script_reports_a_job_and_its_subjobs_with_start_run_fail_and_finish()
    {
        var key = $"cli-script-{Guid.NewGuid():N}"[..24];
        string[] site = ["--sidecar", Sidecar, "--site", "fab1", "--app", "cli-script"];

        var start = await CliProcess.RunAsync(["start", .. site, "--key", key, "--meta", "operator=ana"]);
        Assert.True(start.ExitCode == 0, start.Stderr);
        var jobId = Guid.Parse(start.Stdout.Trim());

        var wafer7 = await CliProcess.RunAsync(["run", .. site, "--parent", jobId.ToString(), "--sub-key", "wafer-07", "--", "true"]);
        Assert.True(wafer7.ExitCode == 0, wafer7.Stderr);

        var startWafer8 = await CliProcess.RunAsync(["start", .. site, "--parent", jobId.ToString(), "--sub-key", "wafer-08"]);
        var wafer8 = Guid.Parse(startWafer8.Stdout.Trim());
        var fail = await CliProcess.RunAsync(["fail", wafer8.ToString(), .. site, "--parent", jobId.ToString(), "--message", "particles over limit", "--exit-code", "4"]);
        Assert.True(fail.ExitCode == 0, fail.Stderr);

        var finish = await CliProcess.RunAsync(["finish", jobId.ToString(), .. site]);
        Assert.True(finish.ExitCode == 0, finish.Stderr);

        using var localApi = fab.Client("localapi-fab1");
        JsonElement detail = default;
        await Events.Eventually(async () =>
        {
            using var response = await localApi.GetAsync($"/v1/jobs/{jobId}");
            if (!response.IsSuccessStatusCode)
                return false;
            detail = await response.Content.ReadFromJsonAsync<JsonElement>();
            var job = detail.GetProperty("job");
            return job.GetProperty("status").GetString() == "succeeded" && job.GetProperty("subjobs").GetProperty("running").GetInt32() == 0
                && job.GetProperty("subjobs").GetProperty("total").GetInt32() == 2;
        }, "the script's job and both subjobs to be stored and ended");

        Assert.Equal(key, detail.GetProperty("job").GetProperty("job_key").GetString());
        Assert.Equal("ana", detail.GetProperty("job").GetProperty("metadata").GetProperty("operator").GetString());
        var subjobs = detail.GetProperty("subjobs").EnumerateArray().ToDictionary(s => s.GetProperty("sub_key").GetString()!);
        Assert.Equal("succeeded", subjobs["wafer-07"].GetProperty("status").GetString());
        Assert.Equal("failed", subjobs["wafer-08"].GetProperty("status").GetString());
        Assert.Equal(wafer8, subjobs["wafer-08"].GetProperty("subjob_id").GetGuid());
        Assert.Equal("particles over limit", subjobs["wafer-08"].GetProperty("metadata").GetProperty("error").GetString());
        Assert.Equal(4, subjobs["wafer-08"].GetProperty("metadata").GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Jobs_without_a_token_says_how_to_pass_one()
    {
        var (exitCode, _, stderr) = await CliProcess.RunAsync("jobs", "--api", LocalApi);

        Assert.Equal(1, exitCode);
        Assert.EndsWith("HTTP 401: pass a read token with --token or set WAFERMONITOR_TOKEN", stderr.Trim());
    }

    [Fact]
    public async Task Jobs_lists_the_sites_jobs_as_an_aligned_table_or_json()
    {
        var key = $"cli-jobs-{Guid.NewGuid():N}"[..24];
        var run = await CliProcess.RunAsync("run", "--sidecar", Sidecar, "--site", "fab1", "--app", "cli-jobs", "--key", key, "--", "true");
        Assert.True(run.ExitCode == 0, run.Stderr);

        JsonElement page = default;
        await Events.Eventually(async () =>
        {
            var json = await CliProcess.RunAsync("jobs", "--api", LocalApi, "--token", fab.Token("localapi-fab1"), "--key", key, "--json");
            Assert.True(json.ExitCode == 0, json.Stderr);
            page = JsonDocument.Parse(json.Stdout).RootElement.Clone();
            return page.GetProperty("count").GetInt32() == 1 && page.GetProperty("items")[0].GetProperty("status").GetString() == "succeeded";
        }, "jobs --json to show the finished job");

        var table = await CliProcess.RunAsync("jobs", "--api", LocalApi, "--token", fab.Token("localapi-fab1"), "--key", key);
        Assert.True(table.ExitCode == 0, table.Stderr);
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches("^STARTED +STATUS +APP +KEY +DURATION +SUBJOBS +JOB ID$", lines[0]);
        Assert.Contains(key, lines[1]);
        Assert.Contains(page.GetProperty("items")[0].GetProperty("job_id").GetString()!, lines[1]);
        // Columns line up: the status starts where its header does; no colour codes when stdout is not a terminal.
        Assert.Equal(lines[0].IndexOf("STATUS", StringComparison.Ordinal), lines[1].IndexOf("succeeded", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', table.Stdout);
    }

    [Fact]
    public async Task Tail_follows_the_live_stream_as_lines_or_json()
    {
        var app = $"cli-tail-{Guid.NewGuid():N}"[..20];
        using var json = CliProcess.Start("tail", "--api", LocalApi, "--token", fab.Token("localapi-fab1"), "--app", app, "--json");
        using var lines = CliProcess.Start("tail", "--api", LocalApi, "--token", fab.Token("localapi-fab1"), "--app", app);

        // The stream starts "now": keep recording jobs until both followers have seen one end.
        await Events.Eventually(async () =>
        {
            var run = await CliProcess.RunAsync("run", "--sidecar", Sidecar, "--site", "fab1", "--app", app, "--key", "tail-1", "--", "true");
            Assert.True(run.ExitCode == 0, run.Stderr);
            await Task.Delay(300);
            return json.Stdout.Contains("\"finished\"", StringComparison.Ordinal) && lines.Stdout.Contains("finished", StringComparison.Ordinal);
        }, "both tails to print a finished job", TimeSpan.FromSeconds(30));

        var finished = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .First(e => e.GetProperty("event").GetProperty("event").GetProperty("kind").GetString() == "finished");
        Assert.Equal(app, finished.GetProperty("event").GetProperty("app").GetProperty("name").GetString());
        Assert.Equal("succeeded", finished.GetProperty("entity_status").GetString());

        var line = lines.Stdout.Split('\n').First(l => l.Contains("finished", StringComparison.Ordinal));
        Assert.Matches($"^\\S+ +finished +succeeded +{app} +tail-1 .*duration_s=", line);
        Assert.Empty(json.Stderr + lines.Stderr);
    }
}
