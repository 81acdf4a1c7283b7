using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>The roles the fab's PostgreSQL gives each service (deploy/postgres/roles.sql, migration 0012).</summary>
[Collection(FabCollection.Name)]
public sealed class DatabaseRoleTests(FabFixture fab)
{
    private string As(string role) =>
        new NpgsqlConnectionStringBuilder(fab.ConnectionString("monitor-fab1")) { Username = role, Pooling = false }.ConnectionString;

    [Fact]
    public async Task The_archiver_role_reads_events_but_cannot_write_them()
    {
        Assert.NotNull((await Sql.QueryAsync(As("wm_archiver"), "SELECT count(*) FROM event"))[0][0]);
        // Privileges are checked before any row is built, so an empty row is enough to be refused for them.
        await AssertDeniedAsync(As("wm_archiver"), "INSERT INTO event DEFAULT VALUES");
        await AssertDeniedAsync(As("wm_archiver"), "UPDATE job SET winner_status = 'failed'");
        await AssertDeniedAsync(As("wm_archiver"), "DELETE FROM event_key");
        Assert.NotNull((await Sql.QueryAsync(As("wm_archiver"), "SELECT count(*) FROM archive_window"))[0][0]);
    }

    [Fact]
    public async Task The_archiver_connected_as_its_role_archives_what_the_site_stored()
    {
        using var localApi = fab.Client("localapi-fab2");
        await Events.PostBatchAsync(localApi, [Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, site: "fab2")]);
        using var archiver = fab.Client("archiver-fab2");
        using var run = await archiver.PostAsync("/v1/archive/run?through=now", null);
        Assert.True(run.IsSuccessStatusCode, $"{(int)run.StatusCode}: {await run.Content.ReadAsStringAsync()}");
        var sessions = await Sql.QueryAsync(fab.ConnectionString("monitor-fab2"),
            "SELECT count(*) FROM archive_window WHERE committed_at IS NOT NULL");
        Assert.True((long)sessions[0][0]! > 0);
    }

    [Fact]
    public async Task The_query_role_reads_every_table_and_writes_none()
    {
        Assert.NotNull((await Sql.QueryAsync(As("wm_query"), "SELECT count(*) FROM job"))[0][0]);
        Assert.NotNull((await Sql.QueryAsync(As("wm_query"), "SELECT count(*) FROM alert"))[0][0]);
        await AssertDeniedAsync(As("wm_query"), "DELETE FROM job");
        await AssertDeniedAsync(As("wm_query"), "INSERT INTO archive_watermark (site_id, archived_through, updated_at) VALUES ('x', now(), now())");
    }

    [Fact]
    public async Task The_site_database_and_its_tables_belong_to_the_owner_role_and_services_are_not_superusers()
    {
        var owners = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"), """
            SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
            UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
            """);
        Assert.Equal("wm_owner", Assert.Single(owners)[0]);
        var sessions = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"),
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name <> '' AND usename <> 'postgres'");
        Assert.Contains(sessions, s => (string?)s[0] == "wm_owner");
        var superusers = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"),
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'wm\\_%' AND (rolsuper OR rolcreaterole OR rolcreatedb)");
        Assert.Empty(superusers);
    }

    private static async Task AssertDeniedAsync(string connectionString, string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => Sql.QueryAsync(connectionString, sql));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }
}
