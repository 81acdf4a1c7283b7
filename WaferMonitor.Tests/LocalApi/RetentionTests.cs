using System.Globalization;
using Npgsql;
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
}
