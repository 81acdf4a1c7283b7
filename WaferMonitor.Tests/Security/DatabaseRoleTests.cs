using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>The roles the fab's PostgreSQL gives each service (deploy/postgres/roles.sql, LocalApi's Storage/RoleGrants.sql).</summary>
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
    public async Task The_ingest_role_appends_events_but_cannot_change_or_remove_them()
    {
        Assert.NotNull((await Sql.QueryAsync(As("wm_ingest"), "SELECT count(*) FROM event_key"))[0][0]);
        await AssertDeniedAsync(As("wm_ingest"), "UPDATE event SET status = 'failed'");
        await AssertDeniedAsync(As("wm_ingest"), "DELETE FROM event");
        await AssertDeniedAsync(As("wm_ingest"), "DELETE FROM event_key");
        await AssertDeniedAsync(As("wm_ingest"), "DELETE FROM job");
        await AssertDeniedAsync(As("wm_ingest"), "INSERT INTO archive_watermark (site_id, archived_through, updated_at) VALUES ('x', now(), now())");
        await AssertDeniedAsync(As("wm_ingest"), "CREATE TABLE intruder (x int)");
    }

    [Fact]
    public async Task The_retention_role_deletes_expired_rows_but_writes_no_event()
    {
        await AssertDeniedAsync(As("wm_retention"), "INSERT INTO event DEFAULT VALUES");
        await AssertDeniedAsync(As("wm_retention"), "DELETE FROM event");
        await AssertDeniedAsync(As("wm_retention"), "UPDATE job SET winner_status = 'failed'");
        await AssertDeniedAsync(As("wm_retention"), "DROP TABLE job");
        foreach (var table in new[] { "event_key", "job", "subjob", "error_occurrence" })
            await Sql.QueryAsync(As("wm_retention"), $"DELETE FROM {table} WHERE false");
    }

    [Fact]
    public async Task The_site_database_belongs_to_the_owner_and_services_connect_as_their_own_roles_none_a_superuser()
    {
        var owners = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"), """
            SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
            UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
            """);
        Assert.Equal("wm_owner", Assert.Single(owners)[0]);
        using var localApi = fab.Client("localapi-fab1");
        await Events.PostBatchAsync(localApi, [Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, site: "fab1")]);
        (await localApi.GetAsync("/v1/jobs?limit=1")).EnsureSuccessStatusCode();
        var sessions = await Sql.QueryAsync(fab.ConnectionString("monitor-fab1"),
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND usename <> 'postgres'");
        // LocalApi's ingest and queries each run as their own role (the owner's and retention's pools are used at start-up
        // and then only periodically, so their connections may have been closed as idle).
        Assert.Contains(sessions, s => (string?)s[0] == "wm_ingest");
        Assert.Contains(sessions, s => (string?)s[0] == "wm_query");
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
