using System.Text.Json;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Objects written by the hand-written codec the library replaced (Fixtures/, see its README) still read back unchanged.</summary>
public sealed class LegacyArchiveFilesTests
{
    [Fact]
    public Task Event_file_of_the_old_codec_reads_back_row_for_row() => CheckAsync("event-gzip-dictionary", ArchiveTables.Event, 300);

    [Fact]
    public Task Job_file_of_the_old_codec_reads_back_row_for_row() => CheckAsync("job-uncompressed", ArchiveTables.Job, 120);

    [Fact]
    public Task Subjob_file_of_the_old_codec_reads_back_row_for_row() => CheckAsync("subjob-gzip-plain", ArchiveTables.Subjob, 120);

    [Fact]
    public async Task Old_files_keep_their_schema_and_statistics_skip_row_groups()
    {
        await using var file = File.OpenRead(Fixture("event-gzip-dictionary.parquet"));
        Assert.Equal(ArchiveTables.Event.Columns, await new ParquetArchiveFormat().ReadSchemaAsync(file));

        // Three row groups of 128, 128 and 44 rows, one event a second: a range inside the second skips the others.
        var expected = await ExpectedAsync<ArchivedEvent>("event-gzip-dictionary");
        var range = new ArchiveTimeRange("ingested_at", expected[130].IngestedAt, expected[140].IngestedAt);
        using (var reader = ParquetFileReader.Open(file))
        {
            var timeColumn = reader.Schema.ToList().FindIndex(c => c.Name == "ingested_at");
            Assert.Equal([1], Enumerable.Range(0, reader.RowGroupCount).Where(g => reader.MayOverlap(g, timeColumn, range)));
        }
        Assert.Equal(expected[130..140], await new ParquetArchiveFormat().ReadRowsAsync(ArchiveTables.Event, file, range).ToListAsync());
    }

    private static async Task CheckAsync<TRow>(string name, ArchiveTable<TRow> table, int rows)
    {
        var expected = await ExpectedAsync<TRow>(name);
        await using var file = File.OpenRead(Fixture(name + ".parquet"));

        var read = await new ParquetArchiveFormat().ReadRowsAsync(table, file).ToListAsync();

        Assert.Equal(rows, expected.Count);
        Assert.Equal(expected, read);
    }

    private static async Task<List<TRow>> ExpectedAsync<TRow>(string name) =>
        JsonSerializer.Deserialize<List<TRow>>(await File.ReadAllTextAsync(Fixture(name + ".json")))!;

    private static string Fixture(string file) => Path.Combine(DuckDb.RepoRoot, "WaferMonitor.Tests", "Parquet", "Fixtures", file);
}
