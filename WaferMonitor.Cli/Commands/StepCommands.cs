using System.CommandLine;
using WaferMonitor.Cli.Reporting;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Cli.Commands;

/// <summary>
/// <c>start</c>, <c>finish</c> and <c>fail</c>: for scripts that report their steps themselves. <c>start</c> prints
/// the new id; <c>finish</c> and <c>fail</c> take it, with the same site and app (and <c>--parent</c> for a subjob).
/// </summary>
internal static class StepCommands
{
    public static Command Start()
    {
        var send = new SendOptions();
        var key = new Option<string?>("--key") { Description = "Business key of the job, e.g. LOT-42 (required for a job)" };
        var subKey = new Option<string?>("--sub-key") { Description = "Sub key of the subjob, e.g. wafer-07 (with --parent)" };
        var command = new Command("start", "Record that a job (or a subjob with --parent) started, and print its id for finish or fail.");
        send.AddTo(command);
        command.Add(key);
        command.Add(subKey);
        command.SetAction(async parse =>
        {
            var target = send.Target(parse, parse.GetValue(key), parse.GetValue(subKey));
            await using var reporter = send.Reporter(parse, target);
            reporter.Send(EventKinds.Started, EntityStatuses.Running, null, send.Metadata(parse));
            await reporter.FlushAsync();
            // Printed even when the sidecar is down, so the script carries on and can still call finish.
            Console.WriteLine(target.Entity.Id);
            return 0;
        });
        return command;
    }

    public static Command Finish()
    {
        var send = new SendOptions();
        var id = IdArgument("The id that start printed");
        var command = new Command("finish", "Record that a job or subjob started with start succeeded.");
        send.AddTo(command);
        command.Add(id);
        command.SetAction(async parse =>
        {
            var target = send.Target(parse, key: null, subKey: null, parse.GetValue(id));
            await using var reporter = send.Reporter(parse, target);
            reporter.Send(EventKinds.Finished, EntityStatuses.Succeeded, null, send.Metadata(parse));
            await reporter.FlushAsync();
            return 0;
        });
        return command;
    }

    public static Command Fail()
    {
        var send = new SendOptions();
        var id = IdArgument("The id that start printed");
        var message = new Option<string?>("--message") { Description = "What went wrong (metadata.error)" };
        var exitCode = new Option<int?>("--exit-code") { Description = "The failed step's exit code (metadata.exit_code)" };
        var command = new Command("fail", "Record that a job or subjob started with start failed.");
        send.AddTo(command);
        command.Add(id);
        command.Add(message);
        command.Add(exitCode);
        command.SetAction(async parse =>
        {
            var target = send.Target(parse, key: null, subKey: null, parse.GetValue(id));
            var metadata = send.Metadata(parse);
            if (parse.GetValue(message) is { Length: > 0 } error)
                metadata["error"] = error;
            if (parse.GetValue(exitCode) is { } code)
                metadata["exit_code"] = code;
            await using var reporter = send.Reporter(parse, target);
            reporter.Send(EventKinds.Error, EntityStatuses.Failed, null, metadata);
            await reporter.FlushAsync();
            return 0;
        });
        return command;
    }

    private static Argument<Guid> IdArgument(string description) => new("id") { Description = description };
}
