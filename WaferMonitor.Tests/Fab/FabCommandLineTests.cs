using WaferMonitor.AppHost;

namespace WaferMonitor.Tests.Fab;

public sealed class FabCommandLineTests
{
    [Fact]
    public void Alert_rules_must_name_an_existing_file_and_are_passed_on_as_a_full_path()
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
        var fab = FabCommandLine.Parse(["--alert-rules", Path.GetRelativePath(Environment.CurrentDirectory, demo)]);
        Assert.Equal(demo, fab?.AlertRulesFile);
        Assert.Null(FabCommandLine.Parse([])?.AlertRulesFile);
    }
}
