using WaferMonitor.AppHost.Hosting;

namespace WaferMonitor.AppHost;

public sealed record FabOptions
{
    public IReadOnlyList<string> Sites { get; init; } = ["fab1", "fab2"];
    public string StateDirectory { get; init; } = ".wafermonitor";
    public string? PostgresConnectionString { get; init; }

    /// <summary>A real S3 or MinIO endpoint for the archive; a local s3rver when null.</summary>
    public string? S3Endpoint { get; init; }

    public string S3Bucket { get; init; } = "wafermonitor-archive";

    /// <summary>Trades durability for speed (fsync off) — for test fabs whose data is thrown away.</summary>
    public bool ThrowawayDatabase { get; init; }

    /// <summary>Where every service sends traces, metrics and logs over OTLP (<c>--otlp</c>); none when null.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Runs Prometheus (and Alertmanager when installed) scraping every service (<c>--prometheus</c>).</summary>
    public bool Prometheus { get; init; }

    /// <summary>Extra environment for every service (e.g. shorter intervals in tests).</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The local fab: one PostgreSQL with a database per site; one S3 for the archive; per site LocalApi, Sidecar and
/// Archiver; one CentralApi.
/// </summary>
public static class FabTopology
{
    public static DistributedApplicationBuilder Declare(FabOptions options)
    {
        var builder = new DistributedApplicationBuilder(options.StateDirectory);
        var postgres = builder.AddPostgres("postgres", options.PostgresConnectionString, options.ThrowawayDatabase);
        var s3 = builder.AddS3("s3", options.S3Bucket, options.S3Endpoint);
        var central = builder.AddProject("central", "CentralApi");
        foreach (var site in options.Sites)
        {
            var database = builder.AddDatabase(postgres, $"monitor-{site}");
            var localApi = builder.AddProject($"localapi-{site}", "LocalApi")
                .WithReference(database, connectionName: "monitor")
                .WithEnvironment("LocalApi__SiteId", site)
                .WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
            builder.AddProject($"sidecar-{site}", "Sidecar")
                .WithReference(localApi)
                .WithEnvironment("Sidecar__SiteId", site)
                .WithEnvironment("Sidecar__LocalApiUrl", $"http://localapi-{site}")
                .WithEnvironment("Spool__Directory", Path.Combine(builder.StateDirectory, "spool", site));
            builder.AddProject($"archiver-{site}", "Archiver")
                .WithReference(database, connectionName: "monitor")
                .WithReference(s3)
                .WaitFor(localApi)
                .WithEnvironment("Archiver__SiteId", site);
            central.WithReference(localApi).WithEnvironment($"Sites__{site}", $"http://localapi-{site}");
        }
        foreach (var project in builder.Projects)
        {
            foreach (var (key, value) in options.ServiceEnvironment)
                project.WithEnvironment(key, value);
            if (options.OtlpEndpoint is not null)
                project.WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", options.OtlpEndpoint);
        }
        if (options.Prometheus)
            AddMonitoring(builder);
        return builder;
    }

    private static void AddMonitoring(DistributedApplicationBuilder builder)
    {
        var rules = Path.Combine(RepositoryLayout.Root, "deploy", "prometheus", "*.yml");
        var prometheus = builder.AddPrometheus("prometheus", [.. builder.Projects], [rules], TimeSpan.FromSeconds(5));
        if (ExecutableResource.FindOnPath(AlertmanagerResource.Binary) is not null)
            prometheus.WithAlertmanager(builder.AddAlertmanager("alertmanager"));
    }
}
