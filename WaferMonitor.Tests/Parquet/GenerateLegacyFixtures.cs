using System.Text.Json;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Tests.Parquet;

// One-off: writes the legacy-codec fixtures. Removed once they are committed.
public sealed class GenerateLegacyFixtures
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    [Fact]
    public async Task Generate()
    {
        var dir = Path.Combine(DuckDb.RepoRoot, "WaferMonitor.Tests", "Parquet", "Fixtures");
        var samples = new ArchiveSamples(2026);
        await WriteAsync(dir, "event-gzip-dictionary", ArchiveTables.Event, samples.Events(300),
            new ParquetWriteOptions { RowGroupRows = 128, PageBytes = 4096, Compression = ParquetCompression.Gzip, Dictionary = true });
        await WriteAsync(dir, "job-uncompressed", ArchiveTables.Job, samples.Jobs(120),
            new ParquetWriteOptions { RowGroupRows = 50, Compression = ParquetCompression.None, Dictionary = true });
        await WriteAsync(dir, "subjob-gzip-plain", ArchiveTables.Subjob, samples.Subjobs(120),
            new ParquetWriteOptions { RowGroupRows = 1000, Compression = ParquetCompression.Gzip, Dictionary = false });
    }

    private static async Task WriteAsync<TRow>(string dir, string name, ArchiveTable<TRow> table, List<TRow> rows, ParquetWriteOptions options)
    {
        var bytes = await ArchiveSamples.WriteAsync(table, rows, options);
        var read = new List<TRow>();
        await foreach (var row in new ParquetArchiveFormat().ReadRowsAsync(table, new MemoryStream(bytes)))
            read.Add(row);
        Assert.Equal(rows, read);
        await File.WriteAllBytesAsync(Path.Combine(dir, name + ".parquet"), bytes);
        var json = JsonSerializer.Serialize(rows, Json);
        Assert.Equal(rows, JsonSerializer.Deserialize<List<TRow>>(json, Json));
        await File.WriteAllTextAsync(Path.Combine(dir, name + ".json"), json + "\n");
    }
}
