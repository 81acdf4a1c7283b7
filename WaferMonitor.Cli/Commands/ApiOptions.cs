using System.CommandLine;

namespace WaferMonitor.Cli.Commands;

/// <summary>The options every reading verb (jobs, tail) shares.</summary>
internal sealed class ApiOptions
{
    public Option<string?> Api { get; } = new("--api") { Description = "LocalApi URL of the site [default: WAFERMONITOR_API]" };

    public Option<string?> Token { get; } = new("--token") { Description = "A read token of the site [default: WAFERMONITOR_TOKEN]" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON instead of a table" };

    public Option<string?> Status { get; } = new("--status") { Description = "Only these statuses: running,succeeded,failed,canceled" };

    public Option<string?> App { get; } = new("--app") { Description = "Only applications whose name contains this" };

    public void AddTo(Command command)
    {
        command.Add(Api);
        command.Add(Token);
        command.Add(Json);
        command.Add(Status);
        command.Add(App);
    }
}
