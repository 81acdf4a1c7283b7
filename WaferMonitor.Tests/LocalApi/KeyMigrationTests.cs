using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>Upgrading a site whose keys were stored as text (before migration 0015) keeps every stored key a duplicate.</summary>
[Collection(FabCollection.Name)]
public sealed class KeyMigrationTests(FabFixture fab)
{
    [Fact]
    public async Task Keys_stored_as_text_before_the_upgrade_get_the_ids_ingest_now_looks_up()
    {
        var database = $"key_upgrade_{Guid.NewGuid():N}";
        await Sql.QueryAsync(fab.PostgresConnectionString, $"CREATE DATABASE {database}");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(fab.PostgresConnectionString) { Database = database, Pooling = false }.ConnectionString;
            // The site as it was: every migration before 0015, recorded as applied.
            var lowercase = Guid.NewGuid().ToString();
            string[] keys = [lowercase, lowercase.ToUpperInvariant(), "poison", "key-ä-🙂", new string('k', 200)];
            var localApi = typeof(MigrationRunner).Assembly;
            foreach (var resource in localApi.GetManifestResourceNames().Where(n => n.StartsWith("Migrations.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                var name = resource["Migrations.".Length..^".sql".Length];
                if (string.CompareOrdinal(name, "0015") >= 0)
                    break;
                await Sql.QueryAsync(connectionString, Read(localApi, resource));
                await Sql.QueryAsync(connectionString, """
                    CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
                    INSERT INTO schema_migration (name) VALUES (@name)
                    """, ("name", name));
            }
            await Sql.QueryAsync(connectionString, "INSERT INTO event_key (idempotency_key, ingested_at) SELECT k, now() FROM unnest(@keys) k", ("keys", keys));

            await using (var dataSource = NpgsqlDataSource.Create(connectionString))
                await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);

            var ids = await Sql.QueryAsync(connectionString, "SELECT key_id FROM event_key");
            Assert.Equal(keys.Select(EventKeyIds.Of).Order(), ids.Select(row => (Guid)row[0]!).Order());
            Assert.Contains(Guid.Parse(lowercase), ids.Select(row => (Guid)row[0]!));
        }
        finally
        {
            await Sql.QueryAsync(fab.PostgresConnectionString, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
        return reader.ReadToEnd();
    }
}
