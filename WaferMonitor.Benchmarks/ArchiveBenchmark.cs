using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// End-to-end archive throughput: a throwaway site (embedded PostgreSQL, local s3rver, LocalApi, Archiver) is loaded
/// with lots of wafers through LocalApi's batch ingest, then one <c>POST /v1/archive/run?through=now</c> is timed —
/// reading the window from PostgreSQL, writing Parquet, uploading, committing. Prints rows/s and Parquet bytes per event,
/// once per compression (each on a fresh site, as <c>Archiver:Compression</c> is read at start).
/// </summary>
public static class ArchiveBenchmark
{
    /// <summary>The last figure of the hand-written codec (GZIP), printed beside each run for comparison.</summary>
    private const string Baseline = "before Parquet libraries (own codec, GZIP, README 2026-11-22): 100,964 rows/s, 40.0 Parquet bytes/event";

    public static readonly string[] Compressions = ["zstd", "gzip", "snappy", "none"];

    public static async Task RunAsync(int events, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"archive benchmark: {Baseline}");
        foreach (var compression in Compressions)
            await RunAsync(events, compression, output, cancellationToken);
    }

    private static async Task RunAsync(int events, string compression, TextWriter output, CancellationToken cancellationToken)
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-archive-bench-" + Guid.NewGuid().ToString("N")[..8]);
        const string site = "bench";
        var builder = new DistributedApplicationBuilder(stateDirectory);
        var postgres = builder.AddPostgres("postgres", throwaway: true);
        var database = builder.AddDatabase(postgres, $"monitor-{site}");
        var s3 = builder.AddS3("s3", "archive-bench");
        var localApi = builder.AddProject("localapi", "LocalApi").WithReference(database, connectionName: "monitor").WithEnvironment("LocalApi__SiteId", site)
            .WithEnvironment("Security__IngestRequestsPerSecond", "0");
        builder.AddProject("archiver", "Archiver").WithReference(database, connectionName: "monitor").WithReference(s3).WaitFor(localApi)
            .WithEnvironment("Archiver__SiteId", site).WithEnvironment("Archiver__WindowLag", "1d").WithEnvironment("Archiver__Interval", "1d")
            .WithEnvironment("Archiver__Compression", compression);
        await using var app = builder.Build(TextWriter.Null, quiet: true);
        try
        {
            await app.StartAsync(TimeSpan.FromMinutes(3), cancellationToken);
            using var ingest = app.CreateHttpClient("localapi");
            ingest.Timeout = TimeSpan.FromMinutes(5);
            var loaded = Stopwatch.StartNew();
            var sent = 0;
            foreach (var batch in SyntheticEvents(site, events).Chunk(5000))
            {
                using var response = await ingest.PostAsJsonAsync("/v1/ingest/events:batch", batch, WireJson.Options, cancellationToken);
                response.EnsureSuccessStatusCode();
                sent += batch.Length;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archive benchmark [{compression}]: {sent:N0} events ingested in {loaded.Elapsed.TotalSeconds:0.0} s"));

            using var archiver = app.CreateHttpClient("archiver");
            archiver.Timeout = TimeSpan.FromMinutes(30);
            var timer = Stopwatch.StartNew();
            using var run = await archiver.PostAsync("/v1/archive/run?through=now", null, cancellationToken);
            var body = await run.Content.ReadAsStringAsync(cancellationToken);
            timer.Stop();
            if (!run.IsSuccessStatusCode)
                throw new InvalidOperationException($"archive run failed ({(int)run.StatusCode}): {body}");
            var summary = JsonDocument.Parse(body).RootElement;
            var rows = summary.GetProperty("rows").GetInt64();

            await using var connection = new NpgsqlConnection(app.Get<DatabaseResource>($"monitor-{site}").ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT COALESCE(sum(bytes), 0)::bigint, COALESCE(sum(row_count), 0)::bigint FROM archive_object WHERE table_name = 'event'", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (eventBytes, eventRows) = (reader.GetInt64(0), reader.GetInt64(1));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"archive benchmark [{compression}]: {rows:N0} rows ({eventRows:N0} events + job/subjob snapshots) archived in {timer.Elapsed.TotalSeconds:0.00} s = {rows / timer.Elapsed.TotalSeconds:N0} rows/s ({eventRows / timer.Elapsed.TotalSeconds:N0} events/s)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"archive benchmark [{compression}]: {summary.GetProperty("objects").GetInt32()} objects, {summary.GetProperty("bytes").GetInt64():N0} bytes; event table {eventBytes:N0} bytes = {(double)eventBytes / Math.Max(1, eventRows):0.0} Parquet bytes/event"));
        }
        finally
        {
            await app.StopAsync();
            try
            {
                Directory.Delete(stateDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Lots of 25 wafers: job and wafer start/finish events with metrics, metadata on some.</summary>
    private static IEnumerable<WireEvent> SyntheticEvents(string site, int count)
    {
        var app = new AppRef(Guid.Parse("0b8f6c1e-3f0a-4b52-8f2d-1c9e7a6b5d40"), "wafer-process", "2.1.0");
        var random = new Random(42);
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        var produced = 0;
        for (var lot = 0; produced < count; lot++)
        {
            var job = Guid.NewGuid();
            var key = $"batch-{lot:D6}";
            var metadata = JsonSerializer.SerializeToElement(new { recipe = $"etch-{lot % 7}", priority = lot % 3 == 0 ? "high" : "normal" }, WireJson.Options);
            yield return new WireEvent(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, job, null, key, null),
                new EventBody(EventKinds.Started, at, EntityStatuses.Running, null, metadata));
            produced++;
            for (var wafer = 0; wafer < 25 && produced < count; wafer++, produced += 2)
            {
                var subjob = Guid.NewGuid();
                var entity = new EntityRef(EntityTypes.Subjob, subjob, job, null, $"wafer-{wafer:D2}");
                yield return new WireEvent(Guid.NewGuid().ToString(), site, app, entity, new EventBody(EventKinds.Started, at, EntityStatuses.Running, null, null));
                var metrics = new Dictionary<string, double>
                {
                    ["duration_s"] = Math.Round(random.NextDouble() * 60, 3), ["cpu_user_s"] = Math.Round(random.NextDouble() * 10, 3),
                    ["mem_max_mb"] = Math.Round(200 + random.NextDouble() * 300, 1),
                };
                yield return new WireEvent(Guid.NewGuid().ToString(), site, app, entity,
                    new EventBody(EventKinds.Finished, at.AddSeconds(30), EntityStatuses.Succeeded, metrics, null));
                at = at.AddMilliseconds(50);
            }
            yield return new WireEvent(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, job, null, key, null),
                new EventBody(EventKinds.Finished, at.AddSeconds(60), EntityStatuses.Succeeded, new Dictionary<string, double> { ["duration_s"] = 60 }, null));
            produced++;
        }
    }
}
