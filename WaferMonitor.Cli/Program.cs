using System.CommandLine;
using System.CommandLine.Help;
using WaferMonitor.Cli;
using WaferMonitor.Cli.Commands;
using WaferMonitor.Cli.Reading;

// A plain Command named wafermonitor, not RootCommand, which would name itself after the assembly (WaferMonitor.Cli).
var root = new Command("wafermonitor", "Record any command or script step as a WaferMonitor job, and read a site's jobs and live stream.")
{
    new HelpOption(),
    new VersionOption(),
    RunCommand.Create(),
    StepCommands.Start(),
    StepCommands.Finish(),
    StepCommands.Fail(),
    JobsCommand.Create(),
    TailCommand.Create(),
};

// No response files: an argument of the wrapped command may start with '@'.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parse.Errors.Count > 0)
{
    var verb = parse.CommandResult.Command == root ? "" : " " + parse.CommandResult.Command.Name;
    // A stray word is the likeliest mistake, and more telling than what it made missing.
    var problem = parse.UnmatchedTokens.Count > 0 ? $"unknown command or argument '{parse.UnmatchedTokens[0]}'" : parse.Errors[0].Message;
    Terminal.Error($"{problem} (see: wafermonitor{verb} --help)");
    return 2;
}
try
{
    // run forwards SIGINT/SIGTERM to its child itself, so the parser must not cancel or end the process on them.
    return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
}
catch (UsageException ex)
{
    Terminal.Error(ex.Message);
    return 2;
}
catch (ApiException ex)
{
    Terminal.Error(ex.Message);
    return 1;
}
