using System.Globalization;
using System.Text.Json;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Files this writer produces, checked by DuckDB's Parquet reader: schema, rows, values, statistics, encodings.</summary>
public sealed class DuckDbReadsOurFilesTests
{
    private const int RowGroupRows = 700;

    [Theory]
    [InlineData(ParquetCompression.Zstd, true)]
    [InlineData(ParquetCompression.Gzip, true)]
    [InlineData(ParquetCompression.Snappy, true)]
    [InlineData(ParquetCompression.None, true)]
    [InlineData(ParquetCompression.Zstd, false)]
    public async Task Event_file_reads_back_in_DuckDB_with_every_value_statistic_and_encoding(ParquetCompression compression, bool dictionary)
    {
        var options = new ParquetWriteOptions
        {
            RowGroupRows = RowGroupRows,
            PageBytes = 8 * 1024,
            Compression = compression,
            Dictionary = dictionary,
        };
        var rows = new ArchiveSamples(seed: 11 + (int)compression).Events(1_800);
        await CheckAsync(ArchiveTables.Event, rows, options, "seq", (metadata, _) =>
        {
            var expectedCodec = compression == ParquetCompression.None ? "UNCOMPRESSED" : compression.ToString().ToUpperInvariant();
            Assert.All(metadata, m => Assert.Equal(expectedCodec, m.GetProperty("compression").GetString()));
            // Dictionary encoding is the library's to choose per chunk (it falls back to PLAIN past DictionaryBytes); the switch must reach it.
            Assert.Equal(dictionary, Encodings(metadata, "site_id").Contains("RLE_DICTIONARY"));
        });
    }

    [Fact]
    public async Task DuckDB_filters_on_timestamps_and_uuids_return_every_matching_row()
    {
        // Parquet.Net 6.1.0 wrote TIMESTAMP(MICROS) bounds in milliseconds and UUID bounds in .NET byte order, and
        // DuckDB, trusting the statistics, skipped row groups that held matching rows. Ours must never be skipped wrongly.
        var events = new ArchiveSamples(seed: 41).Events(2_000);
        using var dir = new TempDirectory();
        var path = dir.File("event.parquet");
        await File.WriteAllBytesAsync(path, await ArchiveSamples.WriteAsync(ArchiveTables.Event, events, new ParquetWriteOptions { RowGroupRows = 300 }));
        var from = events[1_234].IngestedAt;
        var entity = events[1_777].EntityId;

        var results = await DuckDb.QueryAsync(
            $"SELECT count(*)::INTEGER AS n FROM read_parquet({DuckDb.Literal(path)}) WHERE ingested_at >= '{from:O}'::TIMESTAMPTZ",
            $"SELECT count(*)::INTEGER AS n FROM read_parquet({DuckDb.Literal(path)}) WHERE entity_id = '{entity}'::UUID");

        Assert.Equal(events.Count(e => e.IngestedAt >= from), results[0][0].GetProperty("n").GetInt32());
        Assert.Equal(events.Count(e => e.EntityId == entity), results[1][0].GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Job_file_reads_back_in_DuckDB()
    {
        var rows = new ArchiveSamples(seed: 21).Jobs(900);
        await CheckAsync(ArchiveTables.Job, rows, new ParquetWriteOptions { RowGroupRows = RowGroupRows }, "job_id", (_, _) => { });
    }

    [Fact]
    public async Task Subjob_file_reads_back_in_DuckDB()
    {
        var rows = new ArchiveSamples(seed: 31).Subjobs(900);
        await CheckAsync(ArchiveTables.Subjob, rows, new ParquetWriteOptions { RowGroupRows = RowGroupRows, Compression = ParquetCompression.None },
            "subjob_id", (_, _) => { });
    }

    [Fact]
    public async Task Int32_boolean_and_special_doubles_read_back_in_DuckDB()
    {
        var table = new ArchiveTableBuilder<(int? I, bool? B, double D)>("misc")
            .NullableInt32("i", r => r.I)
            .NullableBoolean("b", r => r.B)
            .Double("d", r => r.D)
            .Build(null, r => (r.NullableInt32("i"), r.NullableBoolean("b"), r.Double("d")));
        double[] finite = [0.0, -0.0, double.Epsilon, double.MaxValue, -1.5, 42.0];
        double[] doubles = [0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.Epsilon, double.MaxValue, -1.5];
        var rows = Enumerable.Range(0, 40).Select(i => (
            I: i % 5 == 0 ? (int?)null : i % 3 == 0 ? int.MinValue + i : int.MaxValue - i,
            B: i % 4 == 0 ? (bool?)null : i % 3 == 0,
            // The first row group is finite: DuckDB shows no double bounds for a chunk with NaN or infinities.
            D: i < 16 ? finite[i % finite.Length] : doubles[i % doubles.Length])).ToList();
        using var dir = new TempDirectory();
        var path = dir.File("misc.parquet");
        await File.WriteAllBytesAsync(path, await ArchiveSamples.WriteAsync(table, rows, new ParquetWriteOptions { RowGroupRows = 16 }));

        var results = await DuckDb.QueryAsync(
            $"SELECT i, b, d FROM read_parquet({DuckDb.Literal(path)})",
            $"SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata({DuckDb.Literal(path)}) ORDER BY row_group_id, path_in_schema");

        Assert.Equal(rows.Count, results[0].Length);
        for (var i = 0; i < rows.Count; i++)
        {
            ColumnExpectations.AssertCell(table.Columns[0], rows[i].I, results[0][i].GetProperty("i"), $"row {i}");
            ColumnExpectations.AssertCell(table.Columns[1], rows[i].B, results[0][i].GetProperty("b"), $"row {i}");
            ColumnExpectations.AssertCell(table.Columns[2], rows[i].D, results[0][i].GetProperty("d"), $"row {i}");
        }
        var first = results[1].Where(m => m.GetProperty("row_group_id").GetString() == "0").ToDictionary(m => m.GetProperty("path_in_schema").GetString()!);
        var firstGroup = rows.Take(16).ToList();
        Assert.Equal(firstGroup.Min(r => r.I)!.Value.ToString(CultureInfo.InvariantCulture), first["i"].GetProperty("stats_min_value").GetString());
        Assert.Equal(firstGroup.Max(r => r.I)!.Value.ToString(CultureInfo.InvariantCulture), first["i"].GetProperty("stats_max_value").GetString());
        Assert.Equal(firstGroup.Count(r => r.I is null).ToString(CultureInfo.InvariantCulture), first["i"].GetProperty("stats_null_count").GetString());
        Assert.Equal("false", first["b"].GetProperty("stats_min_value").GetString());
        Assert.Equal("true", first["b"].GetProperty("stats_max_value").GetString());
        Assert.Equal(-1.5, double.Parse(first["d"].GetProperty("stats_min_value").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(double.MaxValue, double.Parse(first["d"].GetProperty("stats_max_value").GetString()!, CultureInfo.InvariantCulture));
    }

    private static string[] Encodings(JsonElement[] metadata, string column) => metadata
        .Where(m => m.GetProperty("path_in_schema").GetString() == column)
        .SelectMany(m => m.GetProperty("encodings").GetString()!.Split(',', StringSplitOptions.TrimEntries))
        .Distinct()
        .ToArray();

    private static async Task CheckAsync<TRow>(
        ArchiveTable<TRow> table, List<TRow> rows, ParquetWriteOptions options, string orderBy,
        Action<JsonElement[], JsonElement[]> extraChecks)
    {
        using var dir = new TempDirectory();
        var path = dir.File(table.Name + ".parquet");
        await File.WriteAllBytesAsync(path, await ArchiveSamples.WriteAsync(table, rows, options));
        var file = DuckDb.Literal(path);

        var results = await DuckDb.QueryAsync(
            $"DESCRIBE SELECT * FROM read_parquet({file})",
            $"SELECT name, repetition_type FROM parquet_schema({file}) WHERE num_children IS NULL",
            $"SELECT count(*) AS n FROM read_parquet({file})",
            $"SELECT {ColumnExpectations.SelectList(table.Columns)} FROM read_parquet({file}) ORDER BY \"{orderBy}\"",
            $"""
            SELECT row_group_id, path_in_schema, encodings, compression, stats_null_count, num_values,
                   stats_min_value, stats_max_value,
                   epoch_us(TRY_CAST(stats_min_value AS TIMESTAMPTZ))::VARCHAR AS min_us,
                   epoch_us(TRY_CAST(stats_max_value AS TIMESTAMPTZ))::VARCHAR AS max_us
            FROM parquet_metadata({file}) ORDER BY row_group_id, column_id
            """);
        var (describe, schema, count, values, metadata) = (results[0], results[1], results[2], results[3], results[4]);

        Assert.Equal(table.Columns.Select(c => c.Name), describe.Select(d => d.GetProperty("column_name").GetString()));
        Assert.Equal(table.Columns.Select(c => ColumnExpectations.DuckDbType(c.Type)), describe.Select(d => d.GetProperty("column_type").GetString()));
        Assert.Equal(table.Columns.Select(c => c.Nullable ? "OPTIONAL" : "REQUIRED"), schema.Select(s => s.GetProperty("repetition_type").GetString()));
        Assert.Equal(rows.Count.ToString(CultureInfo.InvariantCulture), count[0].GetProperty("n").GetString());

        var sortColumn = table.Columns.ToList().FindIndex(c => c.Name == orderBy);
        var expected = rows.Select(r => ColumnExpectations.Cells(table, r)).ToList();
        var sorted = table.Columns[sortColumn].Type == ArchiveColumnType.Uuid
            ? expected.OrderBy(cells => ((Guid)cells[sortColumn]!).ToString(), StringComparer.Ordinal).ToList()
            : expected.OrderBy(cells => (long)cells[sortColumn]!).ToList();
        Assert.Equal(rows.Count, values.Length);
        for (var i = 0; i < sorted.Count; i++)
        {
            for (var c = 0; c < table.Columns.Count; c++)
            {
                var column = table.Columns[c];
                ColumnExpectations.AssertCell(column, sorted[i][c], values[i].GetProperty(column.Name), $"row {i}");
            }
        }

        var groups = (rows.Count + options.RowGroupRows - 1) / options.RowGroupRows;
        Assert.Equal(groups * table.Columns.Count, metadata.Length);
        foreach (var m in metadata)
        {
            var group = int.Parse(m.GetProperty("row_group_id").GetString()!, CultureInfo.InvariantCulture);
            var c = table.Columns.ToList().FindIndex(col => col.Name == m.GetProperty("path_in_schema").GetString());
            var column = table.Columns[c];
            var cells = expected.Skip(group * options.RowGroupRows).Take(options.RowGroupRows).Select(cells => cells[c]).ToList();
            var where = $"row group {group} column {column.Name}";
            Assert.True(cells.Count(v => v is null).ToString(CultureInfo.InvariantCulture) == m.GetProperty("stats_null_count").GetString(), where + " null count");
            Assert.Equal(cells.Count.ToString(CultureInfo.InvariantCulture), m.GetProperty("num_values").GetString());
            var (min, max) = ColumnExpectations.ExpectedStatistics(column, cells, options.StatisticsMaxValueBytes);
            var (minProperty, maxProperty) = column.Type == ArchiveColumnType.Timestamp ? ("min_us", "max_us") : ("stats_min_value", "stats_max_value");
            var actualMin = m.GetProperty(minProperty).GetString();
            var actualMax = m.GetProperty(maxProperty).GetString();
            if (column.Type == ArchiveColumnType.Double && min is not null)
            {
                Assert.True(double.Parse(min, CultureInfo.InvariantCulture) == double.Parse(actualMin!, CultureInfo.InvariantCulture), $"{where} min {min} vs {actualMin}");
                Assert.True(double.Parse(max!, CultureInfo.InvariantCulture) == double.Parse(actualMax!, CultureInfo.InvariantCulture), $"{where} max {max} vs {actualMax}");
            }
            else
            {
                Assert.True(min == actualMin, $"{where} min: expected «{min}», got «{actualMin}»");
                Assert.True(max == actualMax, $"{where} max: expected «{max}», got «{actualMax}»");
            }
        }
        extraChecks(metadata, values);
    }
}
