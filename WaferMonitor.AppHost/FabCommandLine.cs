using System.CommandLine;
using Npgsql;
using RepositoryLayout = WaferMonitor.Rigs.RepositoryLayout;

namespace WaferMonitor.AppHost;

/// <summary>The local fab's options, from the AppHost's command line.</summary>
public sealed record FabOptions
{
    public IReadOnlyList<string> Sites { get; init; } = ["fab1", "fab2"];
    public string StateDirectory { get; init; } = Path.Combine(RepositoryLayout.Root, ".wafermonitor");
    public string? PostgresConnectionString { get; init; }

    /// <summary>A real S3 or MinIO endpoint for the archive; a local s3rver when null.</summary>
    public string? S3Endpoint { get; init; }

    public string S3Bucket { get; init; } = "wafermonitor-archive";

    /// <summary>Trades durability for speed (fsync off) — for fabs whose data is thrown away, such as tests'.</summary>
    public bool ThrowawayDatabase { get; init; }

    /// <summary>Where every service sends traces, metrics and logs over OTLP instead of the dashboard (<c>--otlp</c>).</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Runs Prometheus (and Alertmanager when installed) scraping every service (<c>--prometheus</c>).</summary>
    public bool Prometheus { get; init; }

    /// <summary>A JSON file of alert rules every LocalApi loads (<c>--alert-rules</c>, <c>Alerts:RulesFile</c>).</summary>
    public string? AlertRulesFile { get; init; }

    /// <summary>LocalApis serve reads without a token, for v2's unauthenticated readers (<c>--anonymous-reads</c>).</summary>
    public bool AnonymousReads { get; init; }

    /// <summary>What the fab's options leave over, for Aspire (e.g. <c>--publisher manifest --output-path x.json</c>).</summary>
    public string[] AspireArguments { get; init; } = [];

    public string LogDirectory => Path.Combine(StateDirectory, "logs");
    public string EndpointsFile => Path.Combine(StateDirectory, "endpoints.json");
    public string SpoolDirectory(string site) => Path.Combine(StateDirectory, "spool", site);
}

public static class FabCommandLine
{
    /// <summary>The options, or null (and <see cref="Environment.ExitCode"/> set) after printing help or one line about a bad value.</summary>
    public static FabOptions? Parse(string[] args)
    {
        var sites = new Option<string>("--sites") { Description = "Comma-separated site ids", DefaultValueFactory = _ => "fab1,fab2" };
        var postgres = new Option<string?>("--postgres") { Description = "Use this PostgreSQL server (connection string) instead of an embedded one" };
        var s3 = new Option<string?>("--s3") { Description = "Use this S3 endpoint (real S3 or MinIO; credentials from the AWS chain) instead of a local s3rver" };
        var stateDir = new Option<string>("--state-dir")
        {
            Description = "Where the local fab keeps its state (database, spools, logs, endpoints.json)",
            DefaultValueFactory = _ => new FabOptions().StateDirectory,
        };
        var otlp = new Option<string?>("--otlp") { Description = "Send every service's traces, metrics and logs to this OTLP/gRPC collector instead of the dashboard" };
        var prometheus = new Option<bool>("--prometheus") { Description = "Also run the installed Prometheus (and Alertmanager) scraping every service" };
        var alertRules = new Option<string?>("--alert-rules") { Description = "A JSON file of alert rules (an \"Alerts\" section) every LocalApi loads" };
        var throwaway = new Option<bool>("--throwaway-database") { Description = "Run the embedded PostgreSQL without fsync: fast, for data you will throw away" };
        var anonymousReads = new Option<bool>("--anonymous-reads") { Description = "Let the LocalApis serve reads without a token (for v2's unauthenticated readers)" };
        var root = new RootCommand("Runs the whole local WaferMonitor fab with the Aspire dashboard. Other options go to Aspire, e.g. --publisher manifest --output-path <file>.")
        {
            sites, postgres, s3, stateDir, otlp, prometheus, alertRules, throwaway, anonymousReads,
        };
        root.TreatUnmatchedTokensAsErrors = false;

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            return Refuse(parse.Errors[0].Message);
        }
        if (parse.Action is not null)
        {
            // --help or --version: printed, and nothing to run.
            Environment.ExitCode = parse.Invoke();
            return null;
        }

        var siteList = parse.GetValue(sites)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (siteList.Length == 0 || siteList.Any(s => !SiteIds.IsValid(s)) || siteList.Distinct().Count() != siteList.Length)
            return Refuse($"--sites: '{parse.GetValue(sites)}' must be a comma list of distinct site ids such as fab1,fab2");
        var connectionString = parse.GetValue(postgres);
        if (connectionString is not null && !IsConnectionString(connectionString))
            return Refuse("--postgres: not a PostgreSQL connection string (e.g. \"Host=db;Username=wafermonitor;Password=…\")");
        var s3Endpoint = parse.GetValue(s3);
        if (s3Endpoint is not null && !IsHttpUrl(s3Endpoint))
            return Refuse($"--s3: '{s3Endpoint}' must be an http(s) URL such as http://127.0.0.1:9000");
        var otlpEndpoint = parse.GetValue(otlp);
        if (otlpEndpoint is not null && !IsHttpUrl(otlpEndpoint))
            return Refuse($"--otlp: '{otlpEndpoint}' must be an http(s) URL such as http://127.0.0.1:4317");
        var alertRulesFile = parse.GetValue(alertRules) is { } rules ? FromRepositoryRoot(rules) : null;
        if (alertRulesFile is not null && !File.Exists(alertRulesFile))
            return Refuse($"--alert-rules: {alertRulesFile} does not exist");

        return new FabOptions
        {
            Sites = siteList,
            StateDirectory = FromRepositoryRoot(parse.GetValue(stateDir)!),
            PostgresConnectionString = connectionString,
            S3Endpoint = s3Endpoint,
            OtlpEndpoint = otlpEndpoint,
            Prometheus = parse.GetValue(prometheus),
            ThrowawayDatabase = parse.GetValue(throwaway),
            AlertRulesFile = alertRulesFile,
            AnonymousReads = parse.GetValue(anonymousReads),
            AspireArguments = [.. parse.UnmatchedTokens],
        };
    }

    /// <summary>
    /// A relative path is taken from the repository root, where the README's commands run: <c>dotnet run --project</c>
    /// starts the AppHost in its project directory, so the shell's directory is not known here.
    /// </summary>
    private static string FromRepositoryRoot(string path) => Path.GetFullPath(path, RepositoryLayout.Root);

    private static FabOptions? Refuse(string line)
    {
        Environment.ExitCode = 2;
        Console.Error.WriteLine($"apphost: {line}");
        return null;
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    private static bool IsConnectionString(string value)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(value).Host is { Length: > 0 };
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
