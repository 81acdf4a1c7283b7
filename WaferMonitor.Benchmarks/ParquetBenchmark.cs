using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Writes and reads synthetic event rows through the archive format and prints throughput and size against the
/// events' v2 wire JSON. Timing goals live here, never in test assertions.
/// </summary>
public static class ParquetBenchmark
{
    public const int DefaultRows = 1_000_000;

    /// <summary>The last figures of the hand-written codec it replaced, printed beside the library's for comparison.</summary>
    private const string Baseline =
        "before Parquet libraries (own codec, README 2026-11-22): GZIP write 314,960 rows/s, read 443,760 rows/s, 52.8 bytes/event; " +
        "UNCOMPRESSED write 855,768 rows/s, read 599,764 rows/s, 154.4 bytes/event";

    public static async Task RunAsync(int rows, TextWriter output, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        var invariant = CultureInfo.InvariantCulture;
        var generation = Stopwatch.StartNew();
        long jsonBytes = 0;
        using (var counter = new CountingStream(Stream.Null))
        {
            using var json = new Utf8JsonWriter(counter);
            foreach (var e in Generate(rows))
            {
                WriteWireJson(json, e);
                json.Flush();
                json.Reset();
            }
            jsonBytes = counter.Count;
        }
        generation.Stop();

        await output.WriteLineAsync($"parquet benchmark: {rows.ToString("N0", invariant)} event rows, wire JSON {(double)jsonBytes / rows:F1} bytes/event (generating + serialising took {generation.Elapsed.TotalSeconds:F2} s)").ConfigureAwait(false);
        await output.WriteLineAsync($"  {Baseline}").ConfigureAwait(false);
        foreach (var compression in Enum.GetValues<ParquetCompression>())
        {
            var path = Path.Combine(Path.GetTempPath(), $"wafermonitor-bench-{Guid.NewGuid():N}.parquet");
            try
            {
                var format = new ParquetArchiveFormat(new ParquetWriteOptions { Compression = compression });
                var write = Stopwatch.StartNew();
                await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    using var writer = format.CreateWriter(ArchiveTables.Event, file);
                    foreach (var e in Generate(rows))
                    {
                        await writer.WriteAsync(e, ct).ConfigureAwait(false);
                    }
                    await writer.CompleteAsync(ct).ConfigureAwait(false);
                }
                write.Stop();

                var read = Stopwatch.StartNew();
                long readRows = 0;
                await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                {
                    await foreach (var _ in format.ReadRowsAsync(ArchiveTables.Event, file, null, ct).ConfigureAwait(false))
                    {
                        readRows++;
                    }
                }
                read.Stop();
                if (readRows != rows)
                {
                    throw new InvalidOperationException($"Read {readRows} rows back, wrote {rows}.");
                }

                var size = new FileInfo(path).Length;
                await output.WriteLineAsync(string.Create(invariant,
                    $"  {compression,-6}: write {rows / write.Elapsed.TotalSeconds,10:N0} rows/s ({write.Elapsed.TotalSeconds:F2} s, row generation included), " +
                    $"read {rows / read.Elapsed.TotalSeconds,10:N0} rows/s ({read.Elapsed.TotalSeconds:F2} s), " +
                    $"{(double)size / rows:F1} bytes/event = {100.0 * size / jsonBytes:F1}% of JSON ({size / 1048576.0:F1} MiB)")).ConfigureAwait(false);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>A plausible fab stream: jobs with per-wafer subjobs, mostly start/finish events, metrics on finish.</summary>
    internal static IEnumerable<ArchivedEvent> Generate(int rows)
    {
        var random = new Random(42);
        var apps = Enumerable.Range(0, 20)
            .Select(i => (Id: NewGuid(random), Name: $"wafer-process-{i:D2}", Version: $"2.{i % 4}.0"))
            .ToArray();
        string[] kinds = ["started", "progress", "finished", "finished", "error", "metric"];
        string[] metadata = ["{\"recipe\":\"R-12\",\"tool\":\"ETCH-03\"}", "{\"lot\":\"LOT-48213\",\"chamber\":\"B\"}", "{\"operator\":\"night-shift\"}"];
        var start = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        var job = (Id: NewGuid(random), App: apps[0], Key: "batch-10000");
        for (var i = 0; i < rows; i++)
        {
            if (i % 50 == 0)
            {
                job = (NewGuid(random), apps[random.Next(apps.Length)], $"batch-{10000 + i / 50}");
            }
            var isJob = random.Next(10) < 2;
            var kind = kinds[random.Next(kinds.Length)];
            var ingested = start.AddTicks(i * 10_000L);
            var terminal = kind is "finished" or "error";
            yield return new ArchivedEvent(
                Seq: i + 1,
                IngestedAt: ingested,
                IdempotencyKey: NewGuid(random).ToString(),
                SiteId: "fab1",
                AppId: job.App.Id,
                AppName: job.App.Name,
                AppVersion: job.App.Version,
                EntityType: isJob ? "job" : "subjob",
                EntityId: isJob ? job.Id : NewGuid(random),
                ParentId: isJob ? null : job.Id,
                BusinessKey: isJob ? job.Key : null,
                SubKey: isJob ? null : $"wafer-{random.Next(1, 26):D2}",
                Kind: kind,
                At: ingested.AddTicks(-random.Next(20_000_000)),
                Status: kind switch { "finished" => "succeeded", "error" => "failed", _ => "running" },
                Metrics: terminal
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"{{\"cpu_user_s\":{random.Next(100_000) / 1000.0},\"cpu_system_s\":{random.Next(10_000) / 1000.0},\"mem_max_mb\":{random.Next(64, 4096)}.0,\"duration_s\":{random.Next(1_000_000) / 1000.0}}}")
                    : null,
                Metadata: random.Next(10) < 3 ? metadata[random.Next(metadata.Length)] : null);
        }
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    /// <summary>The event as a fab app sends it (DESIGN §4.1), the size the archive is compared with.</summary>
    private static void WriteWireJson(Utf8JsonWriter json, ArchivedEvent e)
    {
        json.WriteStartObject();
        json.WriteString("idempotency_key", e.IdempotencyKey);
        json.WriteString("site_id", e.SiteId);
        json.WriteStartObject("app");
        json.WriteString("app_id", e.AppId);
        json.WriteString("name", e.AppName);
        json.WriteString("version", e.AppVersion);
        json.WriteEndObject();
        json.WriteStartObject("entity");
        json.WriteString("type", e.EntityType);
        json.WriteString("id", e.EntityId);
        WriteNullable(json, "parent_id", e.ParentId?.ToString());
        WriteNullable(json, "business_key", e.BusinessKey);
        WriteNullable(json, "sub_key", e.SubKey);
        json.WriteEndObject();
        json.WriteStartObject("event");
        json.WriteString("kind", e.Kind);
        json.WriteString("at", e.At);
        WriteNullable(json, "status", e.Status);
        json.WritePropertyName("metrics");
        json.WriteRawValue(e.Metrics ?? "null");
        json.WritePropertyName("metadata");
        json.WriteRawValue(e.Metadata ?? "null");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
