using WaferMonitor.AppHost;

namespace WaferMonitor.Tests.Fab;

public sealed class FabCommandLineTests
{
    [Fact]
    public void Alert_rules_must_name_an_existing_file_and_a_relative_path_is_from_the_repository_root()
    {
        var exitCode = Environment.ExitCode;
        try
        {
            Assert.Null(FabCommandLine.Parse(["--alert-rules", "/no/such/rules.json"]));
            Assert.Equal(2, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
        var demo = Path.Combine(Alerts.AlertRuleSetTests.RepositoryRoot(), "examples", "alerts", "demo-rules.json");
        var fab = FabCommandLine.Parse(["--alert-rules", "examples/alerts/demo-rules.json"]);
        Assert.Equal(demo, fab?.AlertRulesFile);
        Assert.Null(FabCommandLine.Parse([])?.AlertRulesFile);
    }
}
