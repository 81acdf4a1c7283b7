using PrometheusConfiguration = WaferMonitor.Rigs.PrometheusConfiguration;
using AlertmanagerResource = WaferMonitor.Rigs.AlertmanagerResource;

namespace WaferMonitor.AppHost.Infrastructure;

public static class Monitoring
{
    /// <summary>
    /// The installed Alertmanager (Debian's <c>prometheus-alertmanager</c>), which every LocalApi sends its alerts to; it
    /// holds them until receivers are configured (deploy/alertmanager/alertmanager.yml shows how). None when it is not
    /// installed (one line says so) and in publish mode, where a deployment names its own.
    /// </summary>
    public static IResourceBuilder<ExecutableResource>? AddFabAlertmanager(this IDistributedApplicationBuilder builder, FabOptions fab)
    {
        if (!builder.ExecutionContext.IsRunMode)
            return null;
        if (FindOnPath(AlertmanagerResource.Binary) is not { } binary)
        {
            Console.Error.WriteLine("apphost: prometheus-alertmanager is not installed, so alerts are evaluated and listed but not delivered; install it with: sudo apt-get install -y prometheus-alertmanager");
            return null;
        }
        return builder.AddMonitoringTool("alertmanager", binary, fab, directory =>
        {
            var configFile = Path.Combine(directory, "alertmanager.yml");
            File.WriteAllText(configFile, AlertmanagerResource.AlertmanagerHoldConfiguration);
            // An empty cluster address turns off gossip with peers: there is one Alertmanager per local fab.
            return [$"--config.file={configFile}", $"--storage.path={Path.Combine(directory, "data")}", "--cluster.listen-address="];
        });
    }

    /// <summary>Where a LocalApi sends its alerts (Alerts:AlertmanagerUrls), when the fab runs an Alertmanager.</summary>
    public static IResourceBuilder<ProjectResource> WithAlertmanager(this IResourceBuilder<ProjectResource> localApi, IResourceBuilder<ExecutableResource>? alertmanager) =>
        alertmanager is null
            ? localApi
            : localApi.WithEnvironment("Alerts__AlertmanagerUrls__0",
                ReferenceExpression.Create($"http://127.0.0.1:{alertmanager.GetEndpoint("http").Property(EndpointProperty.TargetPort)}"));

    /// <summary>Points a LocalApi at the fab's alert rules file (<c>--alert-rules</c>), when one is given.</summary>
    public static IResourceBuilder<ProjectResource> WithAlertRules(this IResourceBuilder<ProjectResource> localApi, string? rulesFile) =>
        rulesFile is null ? localApi : localApi.WithEnvironment("Alerts__RulesFile", rulesFile);

    /// <summary>
    /// The installed Prometheus scraping every service and evaluating <c>deploy/prometheus/*.yml</c>, sending its alerts
    /// to the fab's Alertmanager when there is one; configured in the state directory.
    /// </summary>
    public static void AddFabMonitoring(this IDistributedApplicationBuilder builder, FabOptions fab, IResourceBuilder<ExecutableResource>? alertmanager)
    {
        if (!builder.ExecutionContext.IsRunMode)
            return;
        if (FindOnPath("prometheus") is not { } prometheusBinary)
        {
            Console.Error.WriteLine("apphost: --prometheus: prometheus is not installed; install it with: sudo apt-get install -y prometheus prometheus-alertmanager");
            return;
        }
        var rules = Path.Combine(WaferMonitor.Rigs.RepositoryLayout.Root, "deploy", "prometheus", "*.yml");
        var prometheus = builder.AddMonitoringTool("prometheus", prometheusBinary, fab, directory =>
            [$"--config.file={Path.Combine(directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory, "data")}"]);
        prometheus.OnBeforeResourceStarted((resource, _, _) =>
        {
            var targets = builder.Resources.OfType<ProjectResource>().Select(p => (p.Name, p.GetEndpoint("http").TargetPort!.Value));
            var configuration = PrometheusConfiguration.Render(targets, [rules], TimeSpan.FromSeconds(5), alertmanager?.GetEndpoint("http").TargetPort);
            File.WriteAllText(Path.Combine(resource.WorkingDirectory, "prometheus.yml"), configuration);
            return Task.CompletedTask;
        });
        if (alertmanager is not null)
            prometheus.WaitFor(alertmanager);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
            prometheus.WaitFor(builder.CreateResourceBuilder(project));
    }

    private static IResourceBuilder<ExecutableResource> AddMonitoringTool(
        this IDistributedApplicationBuilder builder, string name, string binary, FabOptions fab, Func<string, string[]> arguments)
    {
        var directory = Path.Combine(fab.StateDirectory, name);
        Directory.CreateDirectory(directory);
        var tool = builder.AddExecutable(name, binary, directory, arguments(directory))
            .WithHttpEndpoint(name: "http", isProxied: false)
            .WithHttpHealthCheck("/-/ready");
        var endpoint = tool.GetEndpoint("http");
        return tool.WithArgs(context =>
            context.Args.Add(ReferenceExpression.Create($"--web.listen-address=127.0.0.1:{endpoint.Property(EndpointProperty.TargetPort)}")));
    }

    private static string? FindOnPath(string binary) => WaferMonitor.Rigs.ExecutableResource.FindOnPath(binary);

    /// <summary>
    /// <c>--otlp</c>: every service sends its telemetry to that OTLP/gRPC collector instead of the dashboard (set after
    /// Aspire's own OTLP settings, so it wins).
    /// </summary>
    public static void SendTelemetryTo(this IDistributedApplicationBuilder builder, string? collector)
    {
        if (collector is null)
            return;
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        }
    }
}
