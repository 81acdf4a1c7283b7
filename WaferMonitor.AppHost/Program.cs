using WaferMonitor.AppHost;
using WaferMonitor.AppHost.Infrastructure;

// The local fab: one PostgreSQL with a database per site, one S3 for the archive; per site a LocalApi, a Sidecar and an
// Archiver; one CentralApi over every site. Options: FabCommandLine.cs; anything else goes to Aspire (e.g. --publisher).
if (FabCommandLine.Parse(args) is not { } fab)
    return Environment.ExitCode;

var builder = DistributedApplication.CreateBuilder(fab.AspireArguments);
builder.AddFabSupervision(fab);

var postgres = builder.AddFabPostgres("postgres", fab);
var s3 = builder.AddArchiveStorage("s3", fab);
var alertmanager = builder.AddFabAlertmanager(fab);
var credentials = FabCredentials.Add(builder, fab);
var central = credentials.Operator(builder.AddProject<Projects.WaferMonitor_CentralApi>("central").WithServiceEndpoint());

foreach (var site in fab.Sites)
{
    var database = postgres.AddSiteDatabase($"monitor-{site}");

    var localApi = credentials.ForLocalApi(builder.AddProject<Projects.WaferMonitor_LocalApi>($"localapi-{site}"), site)
        .WithServiceEndpoint()
        .WithSiteDatabase(database, SiteDatabaseResource.LocalApiRoles)
        .WithAlertmanager(alertmanager)
        .WithAlertRules(fab.AlertRulesFile)
        .WithEnvironment("LocalApi__SiteId", site)
        .WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

    credentials.ForSidecar(builder.AddProject<Projects.WaferMonitor_Sidecar>($"sidecar-{site}"), site)
        .WithServiceEndpoint()
        .WithReference(localApi).WaitFor(localApi)
        .WithEnvironment("Sidecar__SiteId", site)
        .WithEnvironment("Sidecar__LocalApiUrl", $"http://localapi-{site}")
        // The site's canary (docs/observability.md#synthetic-checks): its checks are the SLA's availability.
        .WithEnvironment("Synthetic__Enabled", "true")
        .WithLocalSpool(fab.SpoolDirectory(site));

    credentials.Operator(builder.AddProject<Projects.WaferMonitor_Archiver>($"archiver-{site}"))
        .WithServiceEndpoint()
        .WithSiteDatabase(database, SiteDatabaseResource.ArchiverRoles)
        .WithArchiveStorage(s3)
        .WaitFor(localApi)
        .WithEnvironment("Archiver__SiteId", site);

    credentials.ForCentral(central.WithReference(localApi).WithEnvironment($"Sites__{site}", $"http://localapi-{site}"), site);
    if (fab.AnonymousReads)
        localApi.WithEnvironment("Security__AllowAnonymousReads", "true");
}

if (fab.Prometheus)
    builder.AddFabMonitoring(fab, alertmanager);

builder.SendTelemetryTo(fab.OtlpEndpoint);
await builder.Build().RunAsync();
return 0;
