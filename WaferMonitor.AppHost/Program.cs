using System.CommandLine;
using System.Runtime.InteropServices;
using WaferMonitor.AppHost;
using WaferMonitor.AppHost.Hosting;

var sites = new Option<string>("--sites") { Description = "Comma-separated site ids", DefaultValueFactory = _ => "fab1,fab2" };
var postgres = new Option<string?>("--postgres") { Description = "Use this PostgreSQL server (connection string) instead of an embedded one" };
var s3 = new Option<string?>("--s3") { Description = "Use this S3 endpoint (real S3 or MinIO; credentials from the AWS chain) instead of a local s3rver" };
var stateDir = new Option<string>("--state-dir")
{
    Description = "Where the local fab keeps its state (database, spools, logs, endpoints.json)",
    DefaultValueFactory = _ => Path.Combine(RepositoryLayout.Root, ".wafermonitor"),
};

var otlp = new Option<string?>("--otlp") { Description = "OTLP endpoint every service exports traces, metrics and logs to (e.g. http://127.0.0.1:4317)" };
var prometheus = new Option<bool>("--prometheus") { Description = "Also run the installed Prometheus (and Alertmanager) scraping every service" };

var root = new RootCommand("Runs the whole local WaferMonitor fab.") { sites, postgres, s3, stateDir, otlp, prometheus };
root.SetAction(async (parse, cancellationToken) =>
{
    var siteList = parse.GetValue(sites)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (siteList.Length == 0 || siteList.Any(s => !SiteIds.IsValid(s)))
    {
        await Console.Error.WriteLineAsync($"--sites: '{parse.GetValue(sites)}' must be a comma list of site ids such as fab1,fab2");
        return 2;
    }
    var options = new FabOptions
    {
        Sites = siteList,
        StateDirectory = parse.GetValue(stateDir)!,
        PostgresConnectionString = parse.GetValue(postgres),
        S3Endpoint = parse.GetValue(s3),
        OtlpEndpoint = parse.GetValue(otlp),
        Prometheus = parse.GetValue(prometheus) && PrometheusInstalled(),
    };
    return await RunFabAsync(options);
});
return await root.Parse(args).InvokeAsync();

static bool PrometheusInstalled()
{
    if (ExecutableResource.FindOnPath(PrometheusResource.Binary) is not null)
        return true;
    Console.Error.WriteLine("apphost: --prometheus: prometheus is not installed; install it with: sudo apt-get install -y prometheus prometheus-alertmanager");
    return false;
}

static async Task<int> RunFabAsync(FabOptions options)
{
    using var shutdown = new CancellationTokenSource();
    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        shutdown.Cancel();
    }
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

    await using var app = FabTopology.Declare(options).Build(Console.Out);
    try
    {
        await app.StartAsync(TimeSpan.FromMinutes(2), shutdown.Token);
        Console.WriteLine("The fab is running. Press Ctrl+C to stop it.");
        await Task.Delay(Timeout.Infinite, shutdown.Token);
    }
    catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
    {
    }
    catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
    {
        await Console.Error.WriteLineAsync($"apphost: {ex.Message}");
        Console.WriteLine("Stopping…");
        await app.StopAsync();
        return 1;
    }
    Console.WriteLine("Stopping…");
    await app.StopAsync();
    Console.WriteLine("Stopped.");
    return 0;
}
