using System.Globalization;
using Npgsql;
using WaferMonitor.LocalApi;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

[Collection(FabCollection.Name)]
public sealed class RetentionTests(FabFixture fab)
{
    private static string Day(DateTime day) => day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Old_partitions_are_dropped_only_up_to_the_archive_watermark_and_partitions_ahead_exist()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Retention__RequireArchive"] = "true",
            ["Retention__MaintenanceInterval"] = "1s",
            ["Retention__Hot"] = "72h",
        });
        var today = DateTime.UtcNow.Date;
        var archived = today.AddDays(-10);
        var notArchived = today.AddDays(-6);
        await using var connection = new NpgsqlConnection(rig.ConnectionString);
        await connection.OpenAsync();
        async Task Sql(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        async Task<HashSet<string>> Partitions()
        {
            await using var command = new NpgsqlCommand(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'event'::regclass", connection);
            var names = new HashSet<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                names.Add(reader.GetString(0));
            return names;
        }
        foreach (var day in new[] { archived, notArchived })
        {
            await Sql($"""
                CREATE TABLE event_p{Day(day)} PARTITION OF event FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00');
                INSERT INTO event (ingested_at, idempotency_key, site_id, app_id, entity_type, entity_id, kind, at, payload)
                VALUES ('{day:yyyy-MM-dd} 12:00:00+00', 'k-{Day(day)}', '{rig.Site}', gen_random_uuid(), 'job', gen_random_uuid(), 'started', now(), jsonb_build_object());
                """);
        }
        await Sql($"""
            INSERT INTO job (job_id, site_id, app_id, app_name, app_version, first_any_at, last_event_at, winner_at, winner_key, winner_status, updated_at)
            VALUES (gen_random_uuid(), '{rig.Site}', gen_random_uuid(), 'old', '1', '{archived:yyyy-MM-dd} 01:00:00+00', '{archived:yyyy-MM-dd} 02:00:00+00',
                    '{archived:yyyy-MM-dd} 02:00:00+00', 'k', 'succeeded', '{archived:yyyy-MM-dd} 02:00:00+00'),
                   (gen_random_uuid(), '{rig.Site}', gen_random_uuid(), 'newer', '1', '{notArchived:yyyy-MM-dd} 01:00:00+00', '{notArchived:yyyy-MM-dd} 02:00:00+00',
                    '{notArchived:yyyy-MM-dd} 02:00:00+00', 'k', 'succeeded', '{notArchived:yyyy-MM-dd} 02:00:00+00');
            """);

        // Without a watermark nothing leaves, however old.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Contains($"event_p{Day(archived)}", await Partitions());

        await Sql($"INSERT INTO archive_watermark (site_id, archived_through) VALUES ('{rig.Site}', '{archived.AddDays(2):yyyy-MM-dd} 00:00:00+00')");
        await Events.Eventually(async () => !(await Partitions()).Contains($"event_p{Day(archived)}"), "the archived partition to be dropped");

        var partitions = await Partitions();
        Assert.Contains($"event_p{Day(notArchived)}", partitions);
        for (var ahead = 0; ahead <= 3; ahead++)
            Assert.Contains($"event_p{Day(today.AddDays(ahead))}", partitions);
        await using var jobs = new NpgsqlCommand("SELECT app_name FROM job ORDER BY app_name", connection);
        Assert.Equal("newer", (string?)await jobs.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Expired_partitions_are_detached_concurrently_a_cut_short_detach_is_finished_and_backlogs_go_in_batches()
    {
        // Maintenance is run here, not by the rig's LocalApi (its interval is too long to interfere).
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Retention__RequireArchive"] = "false",
            ["Retention__MaintenanceInterval"] = "1h",
        });
        var today = DateTime.UtcNow.Date;
        var (attached, pending, leftOver, kept) = (today.AddDays(-9), today.AddDays(-8), today.AddDays(-7), today.AddDays(-1));
        // Statements on a session of their own (a transaction held open, a detach cut short); the rest through Sql.
        static async Task Execute(NpgsqlConnection session, string sql)
        {
            await using var command = new NpgsqlCommand(sql, session);
            await command.ExecuteNonQueryAsync();
        }
        async Task<long> Count(string sql) => (long)(await Sql.QueryAsync(rig.ConnectionString, sql))[0][0]!;
        foreach (var day in new[] { attached, pending, leftOver })
            await Sql.QueryAsync(rig.ConnectionString, $"CREATE TABLE event_p{Day(day)} PARTITION OF event FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')");
        await Sql.QueryAsync(rig.ConnectionString, $"ALTER TABLE event DETACH PARTITION event_p{Day(leftOver)}");

        // A detach cut short: its second phase waits for a transaction that has read the table, and times out.
        await using (var reader = new NpgsqlConnection(rig.ConnectionString))
        {
            await reader.OpenAsync();
            await using var transaction = await reader.BeginTransactionAsync();
            await Execute(reader, "SELECT count(*) FROM event");
            await using var detacher = new NpgsqlConnection(rig.ConnectionString);
            await detacher.OpenAsync();
            await Execute(detacher, "SET lock_timeout = '500ms'");
            await Assert.ThrowsAsync<PostgresException>(() => Execute(detacher, $"ALTER TABLE event DETACH PARTITION event_p{Day(pending)} CONCURRENTLY"));
        }
        Assert.Equal(1, await Count($"SELECT count(*) FROM pg_inherits WHERE inhdetachpending AND inhrelid = 'event_p{Day(pending)}'::regclass"));

        // More expired keys and settled subjobs than one batch holds.
        await Sql.QueryAsync(rig.ConnectionString, $"""
            INSERT INTO event_key (key_id, ingested_at) SELECT wm_event_key_id('expired-' || g), now() - interval '8 days' FROM generate_series(1, 25000) g;
            INSERT INTO subjob (subjob_id, job_id, site_id, app_id, app_name, app_version, first_any_at, last_event_at, winner_at, winner_key, winner_status, updated_at)
            SELECT gen_random_uuid(), gen_random_uuid(), '{rig.Site}', gen_random_uuid(), 'old', '1', now() - interval '5 days', now() - interval '5 days',
                   now() - interval '5 days', 'k', 'succeeded', now() - interval '5 days'
            FROM generate_series(1, 12000);
            """);

        await using var dataSource = NpgsqlDataSource.Create(rig.ConnectionString);
        var maintenance = PartitionMaintenance.ForSite(dataSource, rig.Site, new RetentionOptions { RequireArchive = false });
        var result = await maintenance.RunAsync(CancellationToken.None);

        Assert.Equal(new[] { attached, pending, leftOver }.Select(d => $"event_p{Day(d)}").Order(), result.Dropped.Order());
        Assert.Equal(0, await Count($"SELECT count(*) FROM pg_class WHERE relname IN ('event_p{Day(attached)}', 'event_p{Day(pending)}', 'event_p{Day(leftOver)}')"));
        Assert.Equal(1, await Count($"SELECT count(*) FROM pg_inherits WHERE inhrelid = 'event_p{Day(kept)}'::regclass"));
        Assert.True(result.KeysPruned >= 25000, $"{result.KeysPruned} keys pruned");
        Assert.Equal(0, await Count("SELECT count(*) FROM event_key WHERE key_id IN (SELECT wm_event_key_id('expired-' || g) FROM generate_series(1, 25000) g)"));
        Assert.Equal(12000, result.SubjobsRemoved);
        Assert.Equal(0, await Count("SELECT count(*) FROM subjob WHERE app_name = 'old'"));
    }
}
