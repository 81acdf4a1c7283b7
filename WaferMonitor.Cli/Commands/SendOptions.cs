using System.CommandLine;
using System.Globalization;
using WaferMonitor.Cli.Reporting;

namespace WaferMonitor.Cli.Commands;

/// <summary>The options every sending verb (run, start, finish, fail) shares.</summary>
internal sealed class SendOptions
{
    public Option<string?> Sidecar { get; } = new("--sidecar")
    {
        Description = "Sidecar URL [default: SIDECAR_URL, else http://localhost:8000]",
    };

    public Option<string> Site { get; } = new("--site") { Description = "Site id, e.g. fab1", Required = true };

    public Option<string> App { get; } = new("--app") { Description = "Application name, e.g. etch-recipe", Required = true };

    public Option<Guid?> Parent { get; } = new("--parent") { Description = "Job id: report a subjob of this job (needs --sub-key)" };

    public Option<string[]> Meta { get; } = new("--meta") { Description = "Metadata key=value (repeatable)" };

    public Option<double> FlushTimeout { get; } = new("--flush-timeout")
    {
        Description = "Seconds to wait at the end for events to reach the sidecar",
        DefaultValueFactory = _ => 3,
    };

    public void AddTo(Command command)
    {
        command.Add(Sidecar);
        command.Add(Site);
        command.Add(App);
        command.Add(Parent);
        command.Add(Meta);
        command.Add(FlushTimeout);
    }

    public Target Target(ParseResult parse, string? key, string? subKey, Guid? id = null) =>
        Reporting.Target.Create(parse.GetValue(Sidecar), parse.GetValue(Site)!, parse.GetValue(App)!, key, subKey, parse.GetValue(Parent), id);

    public EventReporter Reporter(ParseResult parse, Target target)
    {
        var seconds = parse.GetValue(FlushTimeout);
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > 3600)
            throw new UsageException($"--flush-timeout '{seconds.ToString(CultureInfo.InvariantCulture)}' must be from 0 to 3600 seconds");
        return new EventReporter(target, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>The <c>--meta key=value</c> pairs, in order; a later key wins.</summary>
    public Dictionary<string, object?> Metadata(ParseResult parse)
    {
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var pair in parse.GetValue(Meta) ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new UsageException($"--meta '{pair}' must be key=value");
            metadata[pair[..equals]] = pair[(equals + 1)..];
        }
        return metadata;
    }
}
