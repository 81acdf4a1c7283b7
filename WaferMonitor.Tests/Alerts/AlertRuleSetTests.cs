using Microsoft.Extensions.Configuration;
using WaferMonitor.LocalApi.Alerts;
using WaferMonitor.Rigs;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Alerts;

/// <summary>The effective rules: defaults, overrides, per-app thresholds, custom rules, and every bad rule named by its key.</summary>
public sealed class AlertRuleSetTests
{
    [Fact]
    public void The_eight_default_rules_are_on_with_the_seeds_thresholds()
    {
        var (rules, errors) = AlertRuleSet.Build(new AlertsOptions());
        Assert.Empty(errors);
        Assert.Equal(
            ["database_unreachable", "high_failure_rate", "high_memory", "ingestion_lag", "long_running_job", "no_jobs_received", "sidecar_silent", "stalled_job"],
            rules.Enabled.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal(0.10, rules.All.Single(r => r.Name == "high_failure_rate").Threshold);
        Assert.Equal(3600, rules.All.Single(r => r.Name == "long_running_job").Threshold);
        Assert.Equal(600, rules.All.Single(r => r.Name == "stalled_job").Threshold);
        Assert.Equal(8192, rules.All.Single(r => r.Name == "high_memory").Threshold);
        Assert.Equal(TimeSpan.FromMinutes(5), rules.All.Single(r => r.Name == "ingestion_lag").For);
        Assert.Equal(120, rules.All.Single(r => r.Name == "sidecar_silent").Threshold);
    }

    [Fact]
    public void Per_app_globs_override_a_threshold_the_most_specific_first()
    {
        var options = new AlertsOptions
        {
            Apps = new()
            {
                ["litho-*"] = new() { ["long_running_job"] = "3h" },
                ["litho-euv-*"] = new() { ["long_running_job"] = "6h", ["high_memory"] = "16384" },
            },
        };
        var (rules, errors) = AlertRuleSet.Build(options);
        Assert.Empty(errors);
        var longRunning = rules.All.Single(r => r.Name == "long_running_job");
        Assert.Equal(6 * 3600, longRunning.ThresholdFor("litho-euv-2"));
        Assert.Equal(3 * 3600, longRunning.ThresholdFor("litho-duv"));
        Assert.Equal(3600, longRunning.ThresholdFor("etch"));
        Assert.Equal(3600, longRunning.LowestThreshold);
        Assert.Equal(16384, rules.All.Single(r => r.Name == "high_memory").ThresholdFor("litho-euv-1"));
    }

    [Fact]
    public void A_custom_rule_of_each_kind_is_accepted()
    {
        var options = new AlertsOptions
        {
            Rules = new()
            {
                ["slow_recipe"] = new() { Kind = "metric_above", Metric = "duration_s", Threshold = "600", App = "recipe-*", Severity = "info", Labels = { ["team"] = "etch" } },
                ["idle_wafer"] = new() { Kind = "metric_below", Metric = "cpu_user_s", Threshold = "0.5", EntityType = "subjob" },
                ["qa_lot_failures"] = new() { Kind = "failure_rate", Threshold = "50%", MinJobs = 2, BusinessKey = "^QA-" },
                ["long_wafer"] = new() { Kind = "running_longer_than", Threshold = "30m", EntityType = "subjob", For = Duration.FromMinutes(1) },
                ["quiet_job"] = new() { Kind = "silent_for", Threshold = "5m" },
                ["chuck_error"] = new() { Kind = "error_matching", Pattern = "chuck|vacuum", EntityType = "any" },
                ["high_memory"] = new() { Severity = "critical" },
            },
        };
        var (rules, errors) = AlertRuleSet.Build(options);
        Assert.Empty(errors);
        Assert.Equal(14, rules.All.Count);
        Assert.Equal(0.5, rules.All.Single(r => r.Name == "qa_lot_failures").Threshold);
        Assert.Equal("critical", rules.All.Single(r => r.Name == "high_memory").Severity);
        Assert.Equal("etch", rules.All.Single(r => r.Name == "slow_recipe").Labels["team"]);
    }

    [Theory]
    [InlineData("nope", null, null, "Rules:nope", "needs a Kind")]
    [InlineData("x", "metric_sideways", "1", "Rules:x", "metric_sideways")]
    [InlineData("x", "metric_above", "many", "Rules:x", "not a number")]
    [InlineData("x", "failure_rate", "1.5", "Rules:x", "rate from 0 to 1")]
    [InlineData("x", "running_longer_than", "72:00:00", "Rules:x", "positive duration")]
    [InlineData("x", "error_matching", "1", "Rules:x", "Pattern is required")]
    [InlineData("Bad-Name", "silent_for", "1m", "Rules:Bad-Name", "rule name")]
    [InlineData("long_running_job", "silent_for", null, "Rules:long_running_job", "cannot change a default rule")]
    public void A_bad_rule_is_named_by_its_key(string name, string? kind, string? threshold, string key, string reason)
    {
        var options = new AlertsOptions { Rules = new() { [name] = new() { Kind = kind, Threshold = threshold } } };
        var (_, errors) = AlertRuleSet.Build(options);
        var (errorKey, error) = Assert.Single(errors);
        Assert.Equal(key, errorKey);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_bad_severity_metric_regex_or_app_threshold_is_named_by_its_key()
    {
        Assert.Contains(AlertRuleSet.Build(new AlertsOptions { Rules = new() { ["high_memory"] = new() { Severity = "loud" } } }).Errors,
            e => e.Key == "Rules:high_memory" && e.Error.Contains("Severity 'loud'"));
        Assert.Contains(AlertRuleSet.Build(new AlertsOptions { Rules = new() { ["m"] = new() { Kind = "metric_above", Threshold = "1" } } }).Errors,
            e => e.Key == "Rules:m" && e.Error.Contains("Metric is required"));
        Assert.Empty(AlertRuleSet.Build(new AlertsOptions { Rules = new() { ["m"] = new() { Kind = "metric_above", Threshold = "1", Metric = "volts" } } }).Errors);
        Assert.Contains(AlertRuleSet.Build(new AlertsOptions { Rules = new() { ["m"] = new() { Kind = "silent_for", Threshold = "1m", BusinessKey = "(" } } }).Errors,
            e => e.Key == "Rules:m" && e.Error.Contains("not a regular expression"));
        Assert.Contains(AlertRuleSet.Build(new AlertsOptions { Apps = new() { ["etch-*"] = new() { ["long_running_job"] = "soon" } } }).Errors,
            e => e.Key == "Apps:etch-*:long_running_job");
        Assert.Contains(AlertRuleSet.Build(new AlertsOptions { Apps = new() { ["etch-*"] = new() { ["no_such_rule"] = "1" } } }).Errors,
            e => e.Key == "Apps:etch-*:no_such_rule");
    }

    [Fact]
    public async Task A_bad_rule_stops_localapi_at_start_up_with_one_line_naming_it()
    {
        var line = await StartupErrors.OneLineAsync("LocalApi",
            "LocalApi__SiteId=fab1|ConnectionStrings__monitor=Host=127.0.0.1;Port=1|Alerts__Rules__scrap_rate__Kind=failure_rate|Alerts__Rules__scrap_rate__Threshold=lots");
        Assert.Contains("Alerts:Rules:scrap_rate", line);
        Assert.Contains("'lots'", line);
    }

    [Theory]
    [InlineData(null, "does not exist")]
    [InlineData("{ \"Alerts\": { \"Rules\": ", "is not valid JSON")]
    public async Task A_rules_file_that_is_missing_or_not_json_stops_localapi_with_one_line(string? content, string reason)
    {
        var file = Path.Combine(Path.GetTempPath(), $"wm-rules-{Guid.NewGuid():N}.json");
        if (content is not null)
            await File.WriteAllTextAsync(file, content);
        try
        {
            var line = await StartupErrors.OneLineAsync("LocalApi", $"LocalApi__SiteId=fab1|ConnectionStrings__monitor=Host=127.0.0.1;Port=1|Alerts__RulesFile={file}");
            Assert.Contains("Alerts:RulesFile", line);
            Assert.Contains(reason, line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_demo_rules_file_is_valid_and_names_lots_and_wafers()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryRoot(), "examples", "alerts", "demo-rules.json")).Build();
        var options = new AlertsOptions();
        configuration.GetSection(AlertsOptions.SectionName).Bind(options);
        var (rules, errors) = AlertRuleSet.Build(options);
        Assert.Empty(errors);
        Assert.Equal(AlertKinds.ErrorMatching, rules.All.Single(r => r.Name == "wafer_failed").Kind);
        Assert.Equal(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(rules.All.Single(r => r.Name == "long_running_job").Threshold!.Value));
    }

    [AmtoolFact]
    public async Task The_example_alertmanager_configuration_passes_amtool()
    {
        var amtool = ExecutableResource.FindOnPath("amtool")!;
        var file = Path.Combine(RepositoryRoot(), "deploy", "alertmanager", "alertmanager.yml");
        var info = new System.Diagnostics.ProcessStartInfo(amtool, ["check-config", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("SUCCESS", output);
        Assert.Contains("2 inhibit rules", output);
        Assert.Contains("5 receivers", output);
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "WaferMonitor.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("WaferMonitor.sln not found above the test output");
    }
}

/// <summary>A fact skipped, with the reason, only on a machine without amtool; CI installs prometheus-alertmanager, which brings it.</summary>
public sealed class AmtoolFactAttribute : FactAttribute
{
    public AmtoolFactAttribute()
    {
        if (ExecutableResource.FindOnPath("amtool") is null)
            Skip = "amtool is not installed (sudo apt-get install -y prometheus-alertmanager): deploy/alertmanager/alertmanager.yml was not checked";
    }
}
