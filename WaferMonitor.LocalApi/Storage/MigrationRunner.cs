using System.Diagnostics;
using Npgsql;

namespace WaferMonitor.LocalApi.Storage;

/// <summary>
/// Applies the embedded <c>Storage/Migrations/*.sql</c> files in name order, each once, under an advisory lock so
/// several replicas starting together do not race. Each file runs in its own transaction with its bookkeeping row.
/// Then the roles' grants (<c>Storage/RoleGrants.sql</c>), on every start. No statement here has a time limit: a migration
/// that rewrites a full-size site's table takes minutes, and a replica waits for another's migrations to end.
/// </summary>
internal sealed partial class MigrationRunner([FromKeyedServices(SiteDatabaseRoles.Owner)] NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    private const long MigrationLockId = 0x57_4D_4D_49_47; // "WMMIG"

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, "SELECT pg_advisory_lock(@id)", cancellationToken, ("id", MigrationLockId));
        try
        {
            await Execute(connection, """
                CREATE TABLE IF NOT EXISTS schema_migration (
                    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand("SELECT name FROM schema_migration", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                    applied.Add(reader.GetString(0));
            }
            foreach (var (name, sql) in EmbeddedMigrations())
            {
                if (applied.Contains(name))
                    continue;
                LogApplying(name);
                var started = Stopwatch.GetTimestamp();
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, sql, cancellationToken);
                await Execute(connection, "INSERT INTO schema_migration (name) VALUES (@name)", cancellationToken, ("name", name));
                await transaction.CommitAsync(cancellationToken);
                LogApplied(name, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            await Execute(connection, ReadResource("RoleGrants.sql"), cancellationToken);
        }
        finally
        {
            await Execute(connection, "SELECT pg_advisory_unlock(@id)", CancellationToken.None, ("id", MigrationLockId));
        }
    }

    private static IEnumerable<(string Name, string Sql)> EmbeddedMigrations()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        const string prefix = "Migrations.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            yield return (resource[prefix.Length..], ReadResource(resource));
    }

    private static string ReadResource(string name)
    {
        using var stream = typeof(MigrationRunner).Assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying migration {Migration}")]
    private partial void LogApplying(string migration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Migration} in {Seconds:0.0} s")]
    private partial void LogApplied(string migration, double seconds);
}
