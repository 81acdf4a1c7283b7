using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using WaferMonitor.LocalApi;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using WaferMonitor.Tests.Parquet;

namespace WaferMonitor.Tests.Archive;

[Collection(FabCollection.Name)]
public sealed partial class ArchiveTests(FabFixture fab)
{
    [Fact]
    public async Task Objects_have_the_documented_keys_and_contents_and_the_manifest_matches()
    {
        await using var rig = await ArchiveRig.StartAsync(fab);
        var now = DateTimeOffset.UtcNow;
        var lots = Enumerable.Range(0, 3).Select(i => Lot(rig.Site, $"lot-{i}", now.AddMinutes(-30 - i))).ToList();
        var running = Guid.NewGuid();
        // A late replay three days old: its event lands in this ingest window but under its own date.
        var late = Lot(rig.Site, "lot-late", now.AddDays(-3));
        await rig.IngestAsync(lots.SelectMany(l => l.Events).Concat(late.Events).Append(Events.Job(running, EventKinds.Started, now, rig.Site)));

        var summary = await rig.RunThroughNowAsync();

        Assert.True(summary.Windows >= 1);
        var objects = rig.Objects();
        Assert.Equal(summary.Objects, objects.Count);
        foreach (var key in objects.Keys)
            Assert.Matches(KeyPattern(rig.Site), key);
        Assert.Contains(objects.Keys, k => k.Contains($"/table=event/date={now.AddDays(-3):yyyy-MM-dd}/", StringComparison.Ordinal));

        // The manifest lists exactly the bucket's objects, with their sizes, checksums and row counts.
        var manifest = await rig.QueryAsync("SELECT object_key, bytes, sha256, row_count, table_name, partition_date FROM archive_object");
        Assert.Equal(objects.Keys.Order(StringComparer.Ordinal), manifest.Select(r => (string)r[0]!).Order(StringComparer.Ordinal));
        using var copy = new TempDirectory();
        var root = rig.CopyObjectsTo(copy);
        foreach (var row in manifest)
        {
            var key = (string)row[0]!;
            Assert.Equal(objects[key].LongLength, (long)row[1]!);
            Assert.Equal(ArchiveRig.Sha256(objects[key]), (string)row[2]!);
            var count = await DuckDb.QueryAsync($"SELECT count(*)::INTEGER AS n FROM read_parquet({DuckDb.Literal(Path.Combine(root, key))})");
            Assert.Equal((long)row[3]!, count[0][0].GetProperty("n").GetInt32());
        }
        Assert.Equal(summary.Rows, manifest.Sum(r => (long)r[3]!));

        // Events: every stored event exactly once, filed under the date of its `at`.
        var events = await DuckDb.QueryAsync($"""
            SELECT idempotency_key, CAST("at" AS VARCHAR) AS at_text, CAST("date" AS VARCHAR) AS d, site_id
            FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=event", "*", "*.parquet"))}, hive_partitioning = true)
            """);
        var stored = (await rig.QueryAsync("SELECT idempotency_key FROM event")).Select(r => (string)r[0]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(stored, events[0].Select(e => e.GetProperty("idempotency_key").GetString()!).Order(StringComparer.Ordinal));
        foreach (var e in events[0])
        {
            Assert.Equal(DateTimeOffset.Parse(e.GetProperty("at_text").GetString()!, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                e.GetProperty("d").GetString());
            Assert.Equal(rig.Site, e.GetProperty("site_id").GetString());
        }

        // Jobs: the settled (finished) ones, not the running one; subjobs of the finished lots.
        var jobs = await DuckDb.QueryAsync($"""
            SELECT job_id::VARCHAR AS id, status, job_key FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=job", "*", "*.parquet"))})
            """);
        Assert.Equal(lots.Append(late).Select(l => l.JobId.ToString()).Order(StringComparer.Ordinal),
            jobs[0].Select(j => j.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(jobs[0], j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        var subjobs = await DuckDb.QueryAsync($"""
            SELECT count(*)::INTEGER AS n, count(DISTINCT subjob_id)::INTEGER AS d FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=subjob", "*", "*.parquet"))})
            """);
        Assert.Equal(8, subjobs[0][0].GetProperty("n").GetInt32());
        Assert.Equal(8, subjobs[0][0].GetProperty("d").GetInt32());

        // Watermark and windows: contiguous, committed, ending where the run says.
        await AssertContiguousAsync(rig, summary.Through!.Value);
        var status = await rig.GetJsonAsync<StatusDto>("/v1/archive/status");
        Assert.Equal(summary.Windows, status.WindowsArchived);
        Assert.Equal(manifest.Sum(r => (long)r[1]!), status.BytesArchived);
        Assert.Null(status.LastError);
        Assert.NotNull(status.LastRunAt);
    }

    [Fact]
    public async Task A_crash_between_upload_and_commit_is_redone_on_restart_without_duplicates_or_gaps()
    {
        await using var rig = await ArchiveRig.StartAsync(fab, new Dictionary<string, string> { ["Archiver__CrashAfterUploadForTesting"] = "true" });
        var now = DateTimeOffset.UtcNow;
        var before = new[] { Lot(rig.Site, "lot-a", now.AddMinutes(-5)), Lot(rig.Site, "lot-b", now.AddMinutes(-4)) };
        await rig.IngestAsync(before.SelectMany(l => l.Events));

        using (var client = rig.Client("archiver"))
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.PostAsync("/v1/archive/run?through=now", null));
        await rig.Archiver.StopForNowAsync();

        // Uploaded but not committed: the objects are there, the window is pending, no watermark.
        var firstAttempt = rig.Objects();
        Assert.NotEmpty(firstAttempt);
        Assert.Equal([null], (await rig.QueryAsync("SELECT committed_at FROM archive_window")).Select(r => r[0]));
        Assert.Empty(await rig.QueryAsync("SELECT 1 FROM archive_watermark"));

        var after = Lot(rig.Site, "lot-c", now);
        await rig.IngestAsync(after.Events);
        rig.Archiver.WithEnvironment("Archiver__CrashAfterUploadForTesting", "false");
        await rig.Archiver.StartAgainAsync(CancellationToken.None);
        var summary = await rig.RunThroughNowAsync();

        await AssertContiguousAsync(rig, summary.Through!.Value);
        // The window archived twice (lot-c landed in the next one): the redo wrote the same objects, byte for byte.
        var redone = rig.Objects();
        Assert.All(firstAttempt, o => Assert.Equal(o.Value, redone[o.Key]));
        using var copy = new TempDirectory();
        var root = rig.CopyObjectsTo(copy);
        var site = Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}");
        var events = await DuckDb.QueryAsync($"""
            SELECT count(*)::INTEGER AS n, count(DISTINCT idempotency_key)::INTEGER AS d
            FROM read_parquet({DuckDb.Literal(Path.Combine(site, "table=event", "*", "*.parquet"))})
            """);
        var stored = (long)(await rig.QueryAsync("SELECT count(*) FROM event"))[0][0]!;
        Assert.Equal(stored, events[0][0].GetProperty("n").GetInt32());
        Assert.Equal(stored, events[0][0].GetProperty("d").GetInt32());
        var jobs = await DuckDb.QueryAsync($"""
            SELECT job_id::VARCHAR AS id, count(*)::INTEGER AS n FROM read_parquet({DuckDb.Literal(Path.Combine(site, "table=job", "*", "*.parquet"))}) GROUP BY ALL
            """);
        Assert.Equal(before.Append(after).Select(l => l.JobId.ToString()).Order(StringComparer.Ordinal),
            jobs[0].Select(j => j.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(jobs[0], j => Assert.Equal(1, j.GetProperty("n").GetInt32()));
        var manifestKeys = (await rig.QueryAsync("SELECT object_key FROM archive_object")).Select(r => (string)r[0]!);
        Assert.Equal(rig.Objects().Keys.Order(StringComparer.Ordinal), manifestKeys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Late_events_land_in_a_later_window_and_read_back_returns_exactly_the_database_jobs_newest_snapshot()
    {
        // A tiny hot window so the quiet running job settles (and is archived) within the test.
        await using var rig = await ArchiveRig.StartAsync(fab, new Dictionary<string, string> { ["Archiver__HotWindow"] = "2s" });
        var now = DateTimeOffset.UtcNow;
        var a = Lot(rig.Site, "lot-A", now.AddMinutes(-20));
        var b = Lot(rig.Site, "lot-B", now.AddMinutes(-10));
        var quiet = Guid.NewGuid();
        await rig.IngestAsync(a.Events.Concat(b.Events).Append(Events.Job(quiet, EventKinds.Started, now.AddMinutes(-15), rig.Site, businessKey: "lot-Q")));
        var first = await rig.RunThroughNowAsync();

        var lateEvent = Events.Job(a.JobId, EventKinds.Progress, now.AddMinutes(-19), rig.Site, businessKey: "lot-A", metadata: new { rework = true });
        await rig.IngestAsync([lateEvent]);
        var second = await rig.RunThroughNowAsync();
        Assert.True(second.Through > first.Through);

        var window = await rig.QueryAsync("""
            SELECT o.window_start FROM archive_object o WHERE o.table_name = 'event' AND o.object_key LIKE '%/table=event/%'
            ORDER BY o.window_start DESC LIMIT 1
            """);
        Assert.True((DateTime)window[0][0]! >= first.Through!.Value.UtcDateTime);
        using (var copy = new TempDirectory())
        {
            var root = rig.CopyObjectsTo(copy);
            var found = await DuckDb.QueryAsync($"""
                SELECT filename FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=event", "*", "*.parquet"))}, filename = true)
                WHERE idempotency_key = {DuckDb.Literal(lateEvent.IdempotencyKey)}
                """);
            var file = Assert.Single(found[0]).GetProperty("filename").GetString()!;
            Assert.EndsWith(WindowId(first.Through!.Value, second.Through!.Value) + ".parquet", file);
        }

        // Read-back equals LocalApi's view of every job in the database, newest snapshot included.
        using var localApi = rig.Client("localapi");
        var live = JsonDocument.Parse(await localApi.GetStringAsync("/v1/jobs")).RootElement.GetProperty("items").EnumerateArray().ToList();
        var archived = await rig.GetJsonAsync<ArchivedPageDto>("/v1/archive/jobs");
        Assert.Equal(3, live.Count);
        Assert.Equal(live.Select(j => j.GetProperty("job_id").GetGuid()).Order(), archived.Items.Select(j => j.JobId).Order());
        foreach (var item in live)
        {
            var match = archived.Items.Single(j => j.JobId == item.GetProperty("job_id").GetGuid());
            Assert.Equal(item.GetProperty("status").GetString(), match.Status);
            Assert.Equal(item.GetProperty("job_key").GetString(), match.JobKey);
            Assert.Equal(item.GetProperty("started_at").GetDateTimeOffset(), match.StartedAt);
            Assert.Equal(item.GetProperty("last_event_at").GetDateTimeOffset(), match.LastEventAt);
            Assert.Equal(item.GetProperty("subjobs").GetProperty("total").GetInt32(), match.Subjobs.Total);
            Assert.Equal(item.GetProperty("subjobs").GetProperty("succeeded").GetInt32(), match.Subjobs.Succeeded);
            var metadata = item.GetProperty("metadata");
            Assert.Equal(metadata.ValueKind == JsonValueKind.Null ? null : metadata.GetRawText(), match.Metadata?.GetRawText());
        }
        Assert.Equal(archived.Items.OrderByDescending(j => j.StartedAt).Select(j => j.JobId), archived.Items.Select(j => j.JobId));

        var detail = await rig.GetJsonAsync<ArchivedDetailDto>($"/v1/archive/jobs/{a.JobId}");
        Assert.True(detail.Job.Metadata!.Value.GetProperty("rework").GetBoolean());
        Assert.Equal(second.Through, detail.Job.SnapshotAt);
        Assert.Equal(a.SubjobIds.Order(), detail.Subjobs.Select(s => s.SubjobId).Order());

        var byKey = await rig.GetJsonAsync<ArchivedPageDto>("/v1/archive/jobs?business_key=lot-B");
        Assert.Equal([b.JobId], byKey.Items.Select(j => j.JobId));
        var range = await rig.GetJsonAsync<ArchivedPageDto>(
            $"/v1/archive/jobs?from={Uri.EscapeDataString(now.AddMinutes(-16).ToString("O"))}&to={Uri.EscapeDataString(now.AddMinutes(-5).ToString("O"))}");
        Assert.Equal(new[] { b.JobId, quiet }.Order(), range.Items.Select(j => j.JobId).Order());

        using var archiver = rig.Client("archiver");
        Assert.Equal(HttpStatusCode.NotFound, (await archiver.GetAsync($"/v1/archive/jobs/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await archiver.GetAsync("/v1/archive/jobs?from=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await archiver.GetAsync("/v1/archive/jobs?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await archiver.GetAsync("/v1/archive/jobs/not-a-uuid")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await archiver.PostAsync("/v1/archive/run?through=tomorrow", null)).StatusCode);
    }

    [Fact]
    public async Task Retention_drops_only_data_the_archive_has_committed()
    {
        await using var rig = await ArchiveRig.StartAsync(fab);
        var now = DateTimeOffset.UtcNow;
        var old = Lot(rig.Site, "lot-old", now.AddDays(-5));
        var recent = Lot(rig.Site, "lot-recent", now.AddMinutes(-5));
        await rig.IngestAsync(old.Events);
        // Make the old lot look as if it had been ingested five days ago, in that day's partition.
        var day = DateOnly.FromDateTime(now.AddDays(-5).UtcDateTime);
        var partition = $"event_p{day:yyyyMMdd}";
        await rig.QueryAsync($"""
            CREATE TABLE {partition} PARTITION OF event FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')
            """);
        await rig.QueryAsync("UPDATE event SET ingested_at = ingested_at - interval '5 days'");
        await rig.QueryAsync("UPDATE job SET updated_at = updated_at - interval '5 days'");
        await rig.QueryAsync("UPDATE subjob SET updated_at = updated_at - interval '5 days'");
        await rig.IngestAsync(recent.Events);

        await using var dataSource = NpgsqlDataSource.Create(rig.ConnectionString);
        var maintenance = PartitionMaintenance.ForSite(dataSource, rig.Site);
        var beforeArchive = await maintenance.RunAsync(CancellationToken.None);
        Assert.True(beforeArchive.Ran);
        Assert.DoesNotContain(partition, beforeArchive.Dropped);
        Assert.Equal(0, beforeArchive.JobsRemoved);
        Assert.Equal(old.Events.Count, await CountAsync(rig, $"SELECT count(*) FROM {partition}"));

        var summary = await rig.RunThroughNowAsync();
        Assert.True(summary.Windows > 24 * 4, $"{summary.Windows} windows");

        var afterArchive = await maintenance.RunAsync(CancellationToken.None);
        Assert.Contains(partition, afterArchive.Dropped);
        Assert.Equal(1, afterArchive.JobsRemoved);
        Assert.Equal(old.SubjobIds.Count, afterArchive.SubjobsRemoved);
        Assert.Equal(recent.Events.Count, await CountAsync(rig, "SELECT count(*) FROM event"));
        Assert.Equal(1, await CountAsync(rig, $"SELECT count(*) FROM job WHERE job_id = '{recent.JobId}'"));

        // What retention removed is in the archive.
        using var copy = new TempDirectory();
        var root = rig.CopyObjectsTo(copy);
        var archived = await DuckDb.QueryAsync($"""
            SELECT count(*)::INTEGER AS n FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=event", "*", "*.parquet"))})
            WHERE entity_id IN ({string.Join(", ", old.SubjobIds.Append(old.JobId).Select(id => $"'{id}'::UUID"))})
            """);
        Assert.Equal(old.Events.Count, archived[0][0].GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Objects_above_the_threshold_go_up_as_multipart_uploads_byte_for_byte()
    {
        await using var rig = await ArchiveRig.StartAsync(fab, new Dictionary<string, string>
        {
            ["Archiver__S3__MultipartThreshold"] = "65536",
            ["Archiver__S3__PartSize"] = "65536",
        });
        var now = DateTimeOffset.UtcNow;
        var job = Guid.NewGuid();
        var events = Enumerable.Range(0, 3000).Select(i => Events.Job(job, EventKinds.Progress, now.AddSeconds(-i), rig.Site,
            metadata: new { step = i, noise = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)) })).ToList();
        await rig.IngestAsync(events);

        await rig.RunThroughNowAsync();

        var objects = rig.Objects();
        var largest = objects.Values.Max(o => o.LongLength);
        Assert.True(largest > 3 * 65536, $"largest object {largest} bytes");
        using var client = rig.Client("archiver");
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches(new Regex("""^archive_uploads_total\{[^}]*method="multipart"[^}]*\} [1-9]""", RegexOptions.Multiline), metrics);
        foreach (var row in await rig.QueryAsync("SELECT object_key, sha256 FROM archive_object"))
            Assert.Equal((string)row[1]!, ArchiveRig.Sha256(objects[(string)row[0]!]));
        using var copy = new TempDirectory();
        var root = rig.CopyObjectsTo(copy);
        var counted = await DuckDb.QueryAsync($"""
            SELECT count(DISTINCT idempotency_key)::INTEGER AS n FROM read_parquet({DuckDb.Literal(Path.Combine(root, ArchiveRig.Prefix, $"site={rig.Site}", "table=event", "*", "*.parquet"))})
            """);
        Assert.Equal(events.Count, counted[0][0].GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task A_missing_bucket_or_wrong_credentials_degrade_health_with_the_reason_and_keep_the_data()
    {
        await using var rig = await ArchiveRig.StartAsync(fab, new Dictionary<string, string> { ["Archiver__S3__Bucket"] = "no-such-bucket" });
        await rig.IngestAsync(Lot(rig.Site, "lot-kept", DateTimeOffset.UtcNow.AddMinutes(-1)).Events);

        var (status, detail) = await S3HealthAsync(rig);
        Assert.Equal("degraded", status);
        Assert.Contains("bucket 'no-such-bucket' does not exist", detail);
        using (var client = rig.Client("archiver"))
        {
            using var run = await client.PostAsync("/v1/archive/run?through=now", null);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, run.StatusCode);
        }
        Assert.Contains("does not exist", (await rig.GetJsonAsync<StatusDto>("/v1/archive/status")).LastError);
        Assert.Empty(await rig.QueryAsync("SELECT 1 FROM archive_watermark"));
        Assert.Equal(6, await CountAsync(rig, "SELECT count(*) FROM event"));

        await rig.Archiver.StopForNowAsync();
        rig.Archiver.WithEnvironment("Archiver__S3__Bucket", rig.S3.Bucket).WithEnvironment("Archiver__S3__AccessKey", "WRONGKEY");
        await rig.Archiver.StartAgainAsync(CancellationToken.None);
        (status, detail) = await S3HealthAsync(rig);
        Assert.Equal("degraded", status);
        Assert.Contains("credentials rejected", detail);
    }

    private static async Task<(string Status, string Detail)> S3HealthAsync(ArchiveRig rig)
    {
        using var client = rig.Client("archiver");
        using var response = await client.GetAsync("/v1/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        var s3 = body.GetProperty("checks").GetProperty("s3");
        return (s3.GetProperty("status").GetString()!, s3.GetProperty("detail").GetString()!);
    }

    /// <summary>Windows follow each other without gap or overlap, all committed, the watermark at the last end.</summary>
    private static async Task AssertContiguousAsync(ArchiveRig rig, DateTimeOffset through)
    {
        var windows = await rig.QueryAsync("SELECT window_start, window_end, committed_at FROM archive_window ORDER BY window_start");
        Assert.NotEmpty(windows);
        Assert.All(windows, w => Assert.NotNull(w[2]));
        for (var i = 1; i < windows.Count; i++)
            Assert.Equal(windows[i - 1][1], windows[i][0]);
        Assert.Equal(through.UtcDateTime, (DateTime)windows[^1][1]!);
        var watermark = await rig.QueryAsync("SELECT archived_through FROM archive_watermark WHERE site_id = @site", ("site", rig.Site));
        Assert.Equal(through.UtcDateTime, (DateTime)Assert.Single(watermark)[0]!);
    }

    private static async Task<long> CountAsync(ArchiveRig rig, string sql) => (long)(await rig.QueryAsync(sql))[0][0]!;

    private sealed record LotEvents(Guid JobId, List<Guid> SubjobIds, List<WireEvent> Events);

    /// <summary>A finished lot: a job and two wafers, each started and finished.</summary>
    private static LotEvents Lot(string site, string businessKey, DateTimeOffset at)
    {
        var job = Guid.NewGuid();
        var wafers = new List<Guid> { Guid.NewGuid(), Guid.NewGuid() };
        var events = new List<WireEvent> { Events.Job(job, EventKinds.Started, at, site, businessKey: businessKey, metadata: new { lot = businessKey }) };
        foreach (var (wafer, i) in wafers.Select((w, i) => (w, i)))
        {
            events.Add(Events.Subjob(wafer, job, EventKinds.Started, at.AddSeconds(1 + i), site, subKey: $"wafer-{i:00}"));
            events.Add(Events.Subjob(wafer, job, EventKinds.Finished, at.AddSeconds(10 + i), site, status: EntityStatuses.Succeeded, subKey: $"wafer-{i:00}"));
        }
        events.Add(Events.Job(job, EventKinds.Finished, at.AddSeconds(20), site, status: EntityStatuses.Succeeded, businessKey: businessKey,
            metrics: new Dictionary<string, double> { ["duration_s"] = 20, ["cpu_user_s"] = 1.5 }));
        return new LotEvents(job, wafers, events);
    }

    private static string WindowId(DateTimeOffset start, DateTimeOffset end) =>
        new WaferMonitor.Archiver.Archive.ArchiveWindow(start, end).Id;

    private static Regex KeyPattern(string site) => new(
        $@"^{ArchiveRig.Prefix}/site={Regex.Escape(site)}/table=(event|job|subjob)/date=\d{{4}}-\d{{2}}-\d{{2}}/\d{{8}}T\d{{6}}(\.\d{{6}})?Z_\d{{8}}T\d{{6}}(\.\d{{6}})?Z\.parquet$");
}
