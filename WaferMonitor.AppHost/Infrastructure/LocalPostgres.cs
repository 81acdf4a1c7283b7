using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using PostgresBinaries = WaferMonitor.Rigs.PostgresBinaries;

namespace WaferMonitor.AppHost.Infrastructure;

/// <summary>
/// The machine's PostgreSQL binaries run as an executable resource (Aspire's own PostgreSQL resource is a container, and
/// there is no container runtime here). Its data directory lives in the state directory across runs.
/// </summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Endpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username=postgres");
}

/// <summary>
/// A site's database on the fab's server (embedded or external); created when first checked. On the embedded server it is
/// owned by <c>wm_owner</c> and each service connects as its own role (deploy/postgres/roles.sql).
/// </summary>
public sealed class SiteDatabaseResource(string name, string databaseName, IResourceWithConnectionString server)
    : Resource(name), IResourceWithParent<IResourceWithConnectionString>, IResourceWithConnectionString
{
    public const string OwnerRole = "wm_owner";
    public const string ArchiverRole = "wm_archiver";

    /// <summary>LocalApi's connection strings and the role of each (WaferMonitor.LocalApi/Storage/SiteDatabaseRoles.cs).</summary>
    public static readonly IReadOnlyDictionary<string, string> LocalApiRoles = new Dictionary<string, string>
    {
        ["monitor"] = OwnerRole,
        ["monitor-ingest"] = "wm_ingest",
        ["monitor-query"] = "wm_query",
        ["monitor-retention"] = "wm_retention",
    };

    public static readonly IReadOnlyDictionary<string, string> ArchiverRoles = new Dictionary<string, string> { ["monitor"] = ArchiverRole };

    public string DatabaseName { get; } = databaseName;

    public IResourceWithConnectionString Parent { get; } = server;

    /// <summary>The fab creates the roles on its own server only; on a server given by --postgres the operator does (docs/security.md).</summary>
    public bool HasRoles => Parent is LocalPostgresResource;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");

    /// <summary>The database as <paramref name="role"/> (the later Username wins over the server's).</summary>
    public ReferenceExpression As(string role) => ReferenceExpression.Create($"{Parent};Database={DatabaseName};Username={role}");
}

public static class LocalPostgresExtensions
{
    /// <summary>
    /// The fab's PostgreSQL: in publish mode Aspire's PostgreSQL server (so the manifest carries one); in run mode the
    /// server given by <c>--postgres</c>, else the machine's binaries run as <see cref="LocalPostgresResource"/>.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddFabPostgres(this IDistributedApplicationBuilder builder, string name, FabOptions fab)
    {
        if (builder.ExecutionContext.IsPublishMode)
            return builder.AddPostgres(name);
        if (fab.PostgresConnectionString is { } external)
            return builder.AddConnectionString(name, ReferenceExpression.Create($"{external}"));

        var binaries = PostgresBinaries.Find();
        var dataDirectory = PostgresBinaries.DataDirectoryForAsync(Path.Combine(fab.StateDirectory, "postgres")).GetAwaiter().GetResult();
        var (command, runAs) = PostgresBinaries.AsPostgresUser(Path.Combine(binaries, "postgres"), []);
        var server = new LocalPostgresResource(name, command, dataDirectory);
        return builder.AddResource(server)
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var argument in runAs)
                    context.Args.Add(argument);
                context.Args.Add("-D");
                context.Args.Add(dataDirectory);
                context.Args.Add("-p");
                context.Args.Add(server.Endpoint.Property(EndpointProperty.TargetPort));
                foreach (var setting in PostgresBinaries.ServerSettings(fab.ThrowawayDatabase))
                    context.Args.Add(setting);
            })
            .WithEnvironment("LC_ALL", "C.UTF-8")
            .OnBeforeResourceStarted(async (_, @event, cancellationToken) =>
            {
                await PostgresBinaries.StopStaleServerAsync(dataDirectory);
                if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
                {
                    var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
                    logger.LogInformation("initialising a new cluster in {DataDirectory}", dataDirectory);
                    await PostgresBinaries.InitDbAsync(binaries, dataDirectory, cancellationToken);
                }
            })
            .WithIconName("DatabaseMultiple")
            .Cast();
    }

    /// <summary>A site's database, named <c>monitor_&lt;site&gt;</c> on the server as today.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddSiteDatabase(this IResourceBuilder<IResourceWithConnectionString> server, string name)
    {
        var databaseName = name.Replace('-', '_');
        if (server.Resource is PostgresServerResource publishedServer)
            return server.ApplicationBuilder.CreateResourceBuilder(publishedServer).AddDatabase(name, databaseName).Cast();

        var database = new SiteDatabaseResource(name, databaseName, server.Resource);
        var healthCheck = $"{name}_exists";
        server.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheck, _ => new DatabaseCreatedCheck(database), failureStatus: null, tags: null));
        return server.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Running,
                Properties = [],
            })
            .WithHealthCheck(healthCheck)
            .WithIconName("Database")
            .Cast();
    }

    /// <summary>
    /// The site database as each of <paramref name="roles"/>' connection strings, connected as its role where the fab made
    /// the roles; else (a server given by --postgres, the published manifest) as <c>ConnectionStrings:monitor</c> with the
    /// database's own connection string, which the services use for every role.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSiteDatabase(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<IResourceWithConnectionString> database,
        IReadOnlyDictionary<string, string> roles)
    {
        if (database.Resource is not SiteDatabaseResource { HasRoles: true } site)
            return service.WithReference(database, connectionName: "monitor").WaitFor(database);
        foreach (var (connectionName, role) in roles)
            service.WithEnvironment($"ConnectionStrings__{connectionName}", site.As(role));
        return service.WaitFor(database);
    }

    private static IResourceBuilder<IResourceWithConnectionString> Cast<T>(this IResourceBuilder<T> builder) where T : IResourceWithConnectionString =>
        builder.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(builder.Resource);

    /// <summary>Healthy once the server answers and the database exists — creating it on the first answer.</summary>
    private sealed class DatabaseCreatedCheck(SiteDatabaseResource database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var server = await database.Parent.ConnectionStringExpression.GetValueAsync(cancellationToken);
                var builder = new NpgsqlConnectionStringBuilder(server) { Timeout = 2, Pooling = false };
                builder.Database ??= "postgres";
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                if (database.HasRoles)
                    await ExecuteAsync(connection, await File.ReadAllTextAsync(RolesFile, cancellationToken), cancellationToken);
                await using var exists = new NpgsqlCommand("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = @name", connection);
                exists.Parameters.AddWithValue("name", database.DatabaseName);
                var owner = await exists.ExecuteScalarAsync(cancellationToken) as string;
                var quoted = $"\"{database.DatabaseName}\"";
                if (owner is null)
                    await ExecuteAsync(connection, database.HasRoles ? $"CREATE DATABASE {quoted} OWNER {SiteDatabaseResource.OwnerRole}" : $"CREATE DATABASE {quoted}", cancellationToken);
                else if (database.HasRoles && owner != SiteDatabaseResource.OwnerRole)
                    await HandOverAsync(builder, database.DatabaseName, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"{database.DatabaseName}: {ex.Message}");
            }
        }

        private static readonly string RolesFile = Path.Combine(WaferMonitor.Rigs.RepositoryLayout.Root, "deploy", "postgres", "roles.sql");

        /// <summary>
        /// A database made before the fab had roles (an older state directory) is owned by postgres: its tables, sequences
        /// and functions are given to wm_owner, so LocalApi's migrations run as the owner from then on.
        /// </summary>
        private static async Task HandOverAsync(NpgsqlConnectionStringBuilder server, string databaseName, CancellationToken cancellationToken)
        {
            var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = databaseName };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, $$"""
                ALTER DATABASE "{{databaseName}}" OWNER TO {{SiteDatabaseResource.OwnerRole}};
                DO $$
                DECLARE r record;
                BEGIN
                    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
                             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                               AND c.relowner <> '{{SiteDatabaseResource.OwnerRole}}'::regrole
                               AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
                    LOOP
                        EXECUTE format('ALTER TABLE %s OWNER TO {{SiteDatabaseResource.OwnerRole}}', r.name);
                    END LOOP;
                    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                             WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '{{SiteDatabaseResource.OwnerRole}}'::regrole
                    LOOP
                        EXECUTE format('ALTER FUNCTION %s OWNER TO {{SiteDatabaseResource.OwnerRole}}', r.name);
                    END LOOP;
                END
                $$;
                """, cancellationToken);
        }

        private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
