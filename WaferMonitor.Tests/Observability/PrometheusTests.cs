using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Observability;

/// <summary>A real Prometheus (the Debian package, which <c>.ci/run</c> installs) against real services.</summary>
[Collection(FabCollection.Name)]
public sealed class PrometheusTests(FabFixture fab)
{
    private static readonly string RulesDirectory = Path.Combine(RepositoryLayout.Root, "deploy", "prometheus");

    [Fact]
    public async Task The_alert_rules_pass_promtool()
    {
        var files = Directory.GetFiles(RulesDirectory, "*.yml");
        Assert.NotEmpty(files);
        var (exitCode, output) = await RunAsync("promtool", ["check", "rules", .. files]);
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task The_burn_rate_rules_pass_their_promtool_unit_tests()
    {
        var tests = Directory.GetFiles(Path.Combine(RulesDirectory, "tests"), "*.yml");
        Assert.NotEmpty(tests);
        var (exitCode, output) = await RunAsync("promtool", ["test", "rules", .. tests]);
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task Prometheus_scrapes_every_fab_service_and_answers_promql_for_the_seed_series()
    {
        var targets = FabFixture.Services.Select(name => (name, fab.Endpoint(name).Port)).ToList();
        await using var monitoring = await StartPrometheusAsync(builder => builder.AddPrometheus("prometheus", targets, [], TimeSpan.FromSeconds(1)));
        using var prometheus = monitoring.Client();

        using var localApi = fab.Client("localapi-fab1");
        var jobId = Guid.NewGuid();
        var app = new AppRef(Guid.NewGuid(), "promql-" + Guid.NewGuid().ToString("N")[..8], "1.0.0");
        await Events.PostBatchAsync(localApi,
        [
            Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow.AddSeconds(-3), app: app),
            Events.Job(jobId, EventKinds.Finished, DateTimeOffset.UtcNow, status: "succeeded", app: app),
        ]);

        await Events.Eventually(async () =>
        {
            var up = await QueryAsync(prometheus, "up");
            return up.Count == targets.Count && up.All(s => s.Value == "1");
        }, "every target up", TimeSpan.FromSeconds(60));
        var jobs = Assert.Single(await QueryAsync(prometheus, $"jobs_total{{app=\"{app.Name}\"}}"));
        Assert.Equal("localapi-fab1", jobs.Labels["job"]);
        Assert.Equal("succeeded", jobs.Labels["status"]);
        Assert.Equal("1", jobs.Value);
        foreach (var (target, _) in targets)
        {
            Assert.Single(await QueryAsync(prometheus, $"process_resident_memory_bytes{{job=\"{target}\"}}"));
            Assert.Single(await QueryAsync(prometheus, $"health_check_status{{job=\"{target}\",check=\"self\"}}"));
        }
        Assert.NotEmpty(await QueryAsync(prometheus, "events_in_spool{job=\"sidecar-fab1\"}"));
        Assert.NotEmpty(await QueryAsync(prometheus, "db_pool_available{job=\"localapi-fab1\"}"));
        Assert.NotEmpty(await QueryAsync(prometheus, "health_check_status{job=\"localapi-fab1\",check=\"database\"} == 1"));
    }

    [Fact]
    public async Task The_service_down_rule_fires_when_a_service_stops()
    {
        await using var rig = await SiteRig.StartAsync(fab);
        // The shipped rules with their "for" waits cut to zero: the expressions under test are the real ones.
        var rules = Path.Combine(rig.App.StateDirectory, "rules-now.yml");
        await File.WriteAllTextAsync(rules,
            Regex.Replace(await File.ReadAllTextAsync(Path.Combine(RulesDirectory, "wafermonitor-rules.yml")), @"for: \d+[smh]", "for: 0s"));
        await using var monitoring = await StartPrometheusAsync(builder => builder.AddPrometheus("prometheus", [rig.Sidecar, rig.LocalApi], [rules], TimeSpan.FromSeconds(1)));
        using var prometheus = monitoring.Client();
        await Events.Eventually(async () => (await QueryAsync(prometheus, "up == 1")).Count == 2, "both targets up", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(await FiringAsync(prometheus), a => a.Name == "WaferMonitorServiceDown");

        await rig.Sidecar.StopForNowAsync();

        await Events.Eventually(async () => (await FiringAsync(prometheus)).Any(a => a.Name == "WaferMonitorServiceDown" && a.Job == "sidecar"),
            "WaferMonitorServiceDown firing for the sidecar", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(await FiringAsync(prometheus), a => a.Name == "WaferMonitorServiceDown" && a.Job == "localapi");
    }

    private static async Task<PrometheusRig> StartPrometheusAsync(Action<DistributedApplicationBuilder> declare)
    {
        var builder = new DistributedApplicationBuilder(Path.Combine(Path.GetTempPath(), "wm-prom-" + Guid.NewGuid().ToString("N")[..8]));
        declare(builder);
        var rig = new PrometheusRig(builder.Build(TextWriter.Null, quiet: true));
        try
        {
            await rig.App.StartAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    private sealed class PrometheusRig(DistributedApplication app) : IAsyncDisposable
    {
        public DistributedApplication App => app;

        public HttpClient Client() => new() { BaseAddress = app.GetEndpoint("prometheus") };

        public async ValueTask DisposeAsync()
        {
            await app.DisposeAsync();
            FabFixture.TryDelete(app.StateDirectory);
        }
    }

    private sealed record Sample(IReadOnlyDictionary<string, string> Labels, string Value);

    private static async Task<List<Sample>> QueryAsync(HttpClient prometheus, string promql)
    {
        var answer = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        Assert.Equal("success", answer.GetProperty("status").GetString());
        return answer.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => new Sample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                r.GetProperty("value")[1].GetString()!))
            .ToList();
    }

    private sealed record Alert(string Name, string? Job);

    private static async Task<List<Alert>> FiringAsync(HttpClient prometheus)
    {
        var answer = await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        return answer.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Where(a => a.GetProperty("state").GetString() == "firing")
            .Select(a => a.GetProperty("labels"))
            .Select(l => new Alert(l.GetProperty("alertname").GetString()!, l.TryGetProperty("job", out var job) ? job.GetString() : null))
            .ToList();
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
