using System.Text.Json;
using WaferMonitor.Archiver.Parquet;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Files DuckDB writes (PLAIN and dictionary pages, every codec the archive writes) read by our reader, value for value.</summary>
public sealed class OurReaderReadsDuckDbFilesTests
{
    // Deterministic data with nulls, "", multi-byte UTF-8, extreme timestamps, low- and high-cardinality strings.
    private const string Data = """
        SELECT
            i::BIGINT AS id,
            CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 - 20000)::INTEGER END AS i32,
            CASE WHEN i % 13 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
            CASE WHEN i % 5 = 0 THEN NULL ELSE i / 8.0 - 100 END::DOUBLE AS d,
            ['fab1', 'fab-é', '日本'][i % 3 + 1] AS low_card,
            CASE WHEN i % 17 = 0 THEN '' ELSE md5(i::VARCHAR) || ' ü🚀' END AS high_card,
            CASE WHEN i % 4 = 0 THEN NULL ELSE 'wafer-' || (i % 25) END AS maybe,
            CASE WHEN i % 9 = 0 THEN NULL ELSE md5('u' || i)::UUID END AS u,
            CASE WHEN i = 0 THEN TIMESTAMPTZ '0001-01-01 00:00:00+00'
                 WHEN i = 1 THEN TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'
                 WHEN i = 2 THEN TIMESTAMPTZ '1970-01-01 00:00:00+00'
                 WHEN i % 10 = 3 THEN NULL
                 ELSE TIMESTAMPTZ '2026-11-22 08:00:00+00' + to_microseconds(i * 1000003) END AS t,
            CASE WHEN i % 6 = 0 THEN NULL ELSE json_object('i', i, 'note', 'é') END AS j
        FROM range(5000) r(i)
        """;

    [Theory]
    [InlineData("zstd", "ZSTD")]
    [InlineData("gzip", "GZIP")]
    [InlineData("snappy", "SNAPPY")]
    [InlineData("uncompressed", "UNCOMPRESSED")]
    public async Task Reads_every_value_of_a_DuckDB_file(string compression, string codec)
    {
        using var dir = new TempDirectory();
        var path = dir.File("duck.parquet");
        var file = DuckDb.Literal(path);
        var results = await DuckDb.QueryAsync(
            $"COPY ({Data}) TO {file} (FORMAT parquet, COMPRESSION {compression}, ROW_GROUP_SIZE 2048)",
            $"SELECT id, i32, flag, d, low_card, high_card, maybe, u::VARCHAR AS u, epoch_us(t)::VARCHAR AS t, j::VARCHAR AS j FROM read_parquet({file}) ORDER BY id",
            $"SELECT DISTINCT path_in_schema, encodings, compression FROM parquet_metadata({file})");
        var (expected, metadata) = (results[1], results[2]);

        // The file must really contain what this test claims to cover.
        Assert.All(metadata, m => Assert.Equal(codec, m.GetProperty("compression").GetString()));
        Assert.Contains(metadata, m => m.GetProperty("path_in_schema").GetString() == "low_card" && m.GetProperty("encodings").GetString()!.Contains("DICTIONARY"));
        Assert.Contains(metadata, m => m.GetProperty("path_in_schema").GetString() == "high_card" && m.GetProperty("encodings").GetString() == "PLAIN");

        var format = new ParquetArchiveFormat();
        await using var stream = File.OpenRead(path);
        var schema = await format.ReadSchemaAsync(stream);
        Assert.Equal(
            [
                new ArchiveColumn("id", ArchiveColumnType.Int64, true),
                new ArchiveColumn("i32", ArchiveColumnType.Int32, true),
                new ArchiveColumn("flag", ArchiveColumnType.Boolean, true),
                new ArchiveColumn("d", ArchiveColumnType.Double, true),
                new ArchiveColumn("low_card", ArchiveColumnType.String, true),
                new ArchiveColumn("high_card", ArchiveColumnType.String, true),
                new ArchiveColumn("maybe", ArchiveColumnType.String, true),
                new ArchiveColumn("u", ArchiveColumnType.Uuid, true),
                new ArchiveColumn("t", ArchiveColumnType.Timestamp, true),
                new ArchiveColumn("j", ArchiveColumnType.Json, true),
            ],
            schema);

        var row = 0;
        var batches = 0;
        await foreach (var batch in format.ReadColumnsAsync(stream))
        {
            batches++;
            for (var r = 0; r < batch.RowCount; r++, row++)
            {
                foreach (var column in batch.Columns)
                {
                    ColumnExpectations.AssertCell(column.Column, Cell(column, r), expected[row].GetProperty(column.Column.Name), $"row {row}");
                }
            }
        }
        Assert.Equal(5000, row);
        Assert.True(batches >= 2, "ROW_GROUP_SIZE should have produced several row groups");
    }

    [Fact]
    public async Task Projection_and_time_range_on_a_DuckDB_file_skip_columns_and_rows()
    {
        using var dir = new TempDirectory();
        var path = dir.File("duck.parquet");
        var file = DuckDb.Literal(path);
        var from = new DateTimeOffset(2026, 11, 22, 8, 1, 0, TimeSpan.Zero);
        var to = from.AddSeconds(30);
        var results = await DuckDb.QueryAsync(
            $"COPY ({Data}) TO {file} (FORMAT parquet, COMPRESSION gzip, ROW_GROUP_SIZE 2048)",
            $"SELECT id FROM read_parquet({file}) WHERE t >= '{from:O}'::TIMESTAMPTZ AND t < '{to:O}'::TIMESTAMPTZ ORDER BY id");
        var expectedIds = results[1].Select(r => long.Parse(r.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(expectedIds);

        await using var stream = File.OpenRead(path);
        var ids = new List<long>();
        await foreach (var batch in new ParquetArchiveFormat().ReadColumnsAsync(stream, ["id"], new ArchiveTimeRange("t", from, to)))
        {
            Assert.Equal(["id"], batch.Columns.Select(c => c.Column.Name));
            for (var r = 0; r < batch.RowCount; r++)
            {
                ids.Add(batch["id"].GetInt64(r)!.Value);
            }
        }
        Assert.Equal(expectedIds, ids);
    }

    internal static object? Cell(ArchiveColumnValues column, int row) => column.Column.Type switch
    {
        ArchiveColumnType.Int32 => column.GetInt32(row),
        ArchiveColumnType.Int64 => column.GetInt64(row),
        ArchiveColumnType.Double => column.GetDouble(row),
        ArchiveColumnType.Boolean => column.GetBoolean(row),
        ArchiveColumnType.String or ArchiveColumnType.Json => column.GetString(row),
        ArchiveColumnType.Uuid => column.GetUuid(row),
        ArchiveColumnType.Timestamp => column.GetTimestamp(row),
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}
