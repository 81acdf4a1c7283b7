using System.Buffers;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Our writer and reader against each other, with random schemas, rows and writer options.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Random_schema_and_rows_read_back_exactly(int seed)
    {
        var samples = new ArchiveSamples(seed);
        var types = Enum.GetValues<ArchiveColumnType>();
        var columns = Enumerable.Range(0, 1 + samples.Next(12))
            .Select(i => new ArchiveColumn($"c{i}", types[samples.Next(types.Length)], samples.Chance(0.5)))
            .ToList();
        var rowCount = samples.Next(4) == 0 ? samples.Next(3) : samples.Next(3000);
        var rows = Enumerable.Range(0, rowCount).Select(_ => columns.Select(c => RandomCell(samples, c)).ToArray()).ToList();
        var options = new ParquetWriteOptions
        {
            RowGroupRows = 1 + samples.Next(1200),
            PageBytes = 64 + samples.Next(20_000),
            Compression = Enum.GetValues<ParquetCompression>()[samples.Next(4)],
            Dictionary = samples.Chance(0.7),
            DictionaryBytes = 64 + samples.Next(4096),
        };
        var table = BuildTable(columns);

        var bytes = await ArchiveSamples.WriteAsync(table, rows, options);
        var read = new List<object?[]>();
        await foreach (var row in new ParquetArchiveFormat().ReadRowsAsync(table, new MemoryStream(bytes)))
        {
            read.Add(row);
        }

        Assert.Equal(rows.Count, read.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < columns.Count; c++)
            {
                Assert.True(Equals(rows[r][c], read[r][c]) || BitwiseEqualDoubles(rows[r][c], read[r][c]),
                    $"seed {seed} row {r} column {columns[c]}: wrote {rows[r][c]}, read {read[r][c]}");
            }
        }
    }

    [Fact]
    public async Task Archive_tables_round_trip_through_their_records()
    {
        var samples = new ArchiveSamples(7);
        var options = new ParquetWriteOptions { RowGroupRows = 300 };
        await RoundTripAsync(ArchiveTables.Event, samples.Events(1000), options);
        await RoundTripAsync(ArchiveTables.Job, samples.Jobs(500), options);
        await RoundTripAsync(ArchiveTables.Subjob, samples.Subjobs(500), options);
    }

    [Fact]
    public async Task Time_range_skips_row_groups_by_statistics_and_filters_rows_exactly()
    {
        var events = new ArchiveSamples(3).Events(1000);
        var bytes = await ArchiveSamples.WriteAsync(ArchiveTables.Event, events, new ParquetWriteOptions { RowGroupRows = 100 });
        var from = events[250].IngestedAt;
        var to = events[420].IngestedAt;
        var range = new ArchiveTimeRange(ArchiveTables.Event.TimeColumn!, from, to);

        using var reader = ParquetFileReader.Open(new MemoryStream(bytes));
        var timeColumn = reader.Schema.ToList().FindIndex(c => c.Name == "ingested_at");
        var kept = Enumerable.Range(0, reader.RowGroupCount).Where(g => reader.MayOverlap(g, timeColumn, range)).ToList();
        Assert.Equal([2, 3, 4], kept);

        var read = new List<ArchivedEvent>();
        await foreach (var e in new ParquetArchiveFormat().ReadRowsAsync(ArchiveTables.Event, new MemoryStream(bytes), range))
        {
            read.Add(e);
        }
        Assert.Equal(events.Where(e => e.IngestedAt >= from && e.IngestedAt < to), read);
    }

    [Fact]
    public async Task Row_groups_reach_a_forward_only_stream_before_the_file_is_complete()
    {
        var destination = new ForwardOnlyStream();
        using var writer = new ParquetArchiveFormat(new ParquetWriteOptions { RowGroupRows = 500 }).CreateWriter(ArchiveTables.Event, destination);
        var events = new ArchiveSamples(5).Events(2_100);
        var flushedBeforeComplete = new List<long>();
        foreach (var e in events)
        {
            await writer.WriteAsync(e);
            if (writer.RowCount % 500 == 0)
            {
                flushedBeforeComplete.Add(destination.Written);
            }
        }
        await writer.CompleteAsync();

        // Each filled row group was handed to the stream as soon as it closed, not held until the footer.
        Assert.Equal(4, flushedBeforeComplete.Count);
        Assert.True(flushedBeforeComplete.SequenceEqual(flushedBeforeComplete.Order()) && flushedBeforeComplete.Distinct().Count() == 4);
        Assert.True(flushedBeforeComplete[0] > 4);
        Assert.Equal(destination.Written, writer.BytesWritten);
        var read = new List<ArchivedEvent>();
        await foreach (var e in new ParquetArchiveFormat().ReadRowsAsync(ArchiveTables.Event, new MemoryStream(destination.Bytes.WrittenSpan.ToArray())))
        {
            read.Add(e);
        }
        Assert.Equal(events, read);
    }

    [Fact]
    public async Task A_null_in_a_required_column_fails_the_row_and_the_file()
    {
        using var writer = new ParquetArchiveFormat().CreateWriter(ArchiveTables.Job, new MemoryStream());
        var job = new ArchiveSamples(9).Jobs(1)[0];
        await Assert.ThrowsAsync<ArgumentException>(async () => await writer.WriteAsync(job with { Status = null! }));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.CompleteAsync());
    }

    [Fact]
    public async Task Reading_with_columns_out_of_declaration_order_fails_loudly()
    {
        var table = new ArchiveTableBuilder<(long A, long B)>("t")
            .Int64("a", r => r.A)
            .Int64("b", r => r.B)
            .Build(null, r => (r.Int64("b"), r.Int64("a")));
        var bytes = await ArchiveSamples.WriteAsync(table, [(1L, 2L)], new ParquetWriteOptions());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in new ParquetArchiveFormat().ReadRowsAsync(table, new MemoryStream(bytes)))
            {
            }
        });
        Assert.Contains("declaration order", error.Message);
    }

    [Theory]
    [InlineData(ParquetCompression.Zstd)]
    [InlineData(ParquetCompression.Gzip)]
    [InlineData(ParquetCompression.Snappy)]
    [InlineData(ParquetCompression.None)]
    public async Task An_empty_file_keeps_its_schema_and_reads_back_no_rows(ParquetCompression compression)
    {
        var bytes = await ArchiveSamples.WriteAsync(ArchiveTables.Event, [], new ParquetWriteOptions { Compression = compression });

        Assert.Equal(ArchiveTables.Event.Columns, await new ParquetArchiveFormat().ReadSchemaAsync(new MemoryStream(bytes)));
        Assert.Empty(await new ParquetArchiveFormat().ReadRowsAsync(ArchiveTables.Event, new MemoryStream(bytes)).ToListAsync());
    }

    [Fact]
    public async Task A_large_row_group_of_the_default_size_round_trips()
    {
        // 150,000 rows: one full default row group (128 Ki rows) and a second, partial one.
        var options = new ParquetWriteOptions();
        var events = new ArchiveSamples(13).Events(150_000);
        var bytes = await ArchiveSamples.WriteAsync(ArchiveTables.Event, events, options);

        using (var reader = ParquetFileReader.Open(new MemoryStream(bytes)))
        {
            Assert.Equal(2, reader.RowGroupCount);
            Assert.Equal(options.RowGroupRows, reader.RowGroupRowCount(0));
        }
        Assert.Equal(events, await new ParquetArchiveFormat().ReadRowsAsync(ArchiveTables.Event, new MemoryStream(bytes)).ToListAsync());
    }

    [Fact]
    public async Task Writing_the_same_rows_twice_gives_the_same_bytes()
    {
        // Object keys are deterministic and a redone window overwrites its objects: the bytes should not drift either.
        var events = new ArchiveSamples(17).Events(3_000);
        var options = new ParquetWriteOptions { RowGroupRows = 1_000 };

        Assert.Equal(await ArchiveSamples.WriteAsync(ArchiveTables.Event, events, options), await ArchiveSamples.WriteAsync(ArchiveTables.Event, events, options));
    }

    private static async Task RoundTripAsync<TRow>(ArchiveTable<TRow> table, List<TRow> rows, ParquetWriteOptions options)
    {
        var bytes = await ArchiveSamples.WriteAsync(table, rows, options);
        var read = new List<TRow>();
        await foreach (var row in new ParquetArchiveFormat().ReadRowsAsync(table, new MemoryStream(bytes)))
        {
            read.Add(row);
        }
        Assert.Equal(rows.Count, read.Count);
        Assert.Equal(rows, read);
    }

    private static bool BitwiseEqualDoubles(object? a, object? b) =>
        a is double x && b is double y && BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y);

    private static object? RandomCell(ArchiveSamples s, ArchiveColumn column)
    {
        if (column.Nullable && s.Chance(0.3))
        {
            return null;
        }
        return column.Type switch
        {
            ArchiveColumnType.Int32 => s.Chance(0.1) ? (s.Chance(0.5) ? int.MinValue : int.MaxValue) : s.Next(100) - 50,
            ArchiveColumnType.Int64 => s.Chance(0.1) ? (s.Chance(0.5) ? long.MinValue : long.MaxValue) : (long)s.Next(1000) * 1_000_000_007,
            ArchiveColumnType.Double => s.Chance(0.1) ? new[] { double.NaN, -0.0, double.NegativeInfinity, double.MaxValue }[s.Next(4)] : s.Number(),
            ArchiveColumnType.Boolean => s.Chance(0.5),
            ArchiveColumnType.String => s.Text(),
            ArchiveColumnType.Json => s.Json(),
            ArchiveColumnType.Uuid => s.Uuid(),
            ArchiveColumnType.Timestamp => s.Time(),
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
    }

    /// <summary>A table over object?[] rows, the way a caller with a runtime schema would declare one.</summary>
    private static ArchiveTable<object?[]> BuildTable(List<ArchiveColumn> columns)
    {
        var builder = new ArchiveTableBuilder<object?[]>("random");
        for (var i = 0; i < columns.Count; i++)
        {
            var c = i;
            var name = columns[i].Name;
            builder = (columns[i].Type, columns[i].Nullable) switch
            {
                (ArchiveColumnType.Int32, false) => builder.Int32(name, r => (int)r[c]!),
                (ArchiveColumnType.Int32, true) => builder.NullableInt32(name, r => (int?)r[c]),
                (ArchiveColumnType.Int64, false) => builder.Int64(name, r => (long)r[c]!),
                (ArchiveColumnType.Int64, true) => builder.NullableInt64(name, r => (long?)r[c]),
                (ArchiveColumnType.Double, false) => builder.Double(name, r => (double)r[c]!),
                (ArchiveColumnType.Double, true) => builder.NullableDouble(name, r => (double?)r[c]),
                (ArchiveColumnType.Boolean, false) => builder.Boolean(name, r => (bool)r[c]!),
                (ArchiveColumnType.Boolean, true) => builder.NullableBoolean(name, r => (bool?)r[c]),
                (ArchiveColumnType.String, false) => builder.String(name, r => (string)r[c]!),
                (ArchiveColumnType.String, true) => builder.NullableString(name, r => (string?)r[c]),
                (ArchiveColumnType.Json, false) => builder.Json(name, r => (string)r[c]!),
                (ArchiveColumnType.Json, true) => builder.NullableJson(name, r => (string?)r[c]),
                (ArchiveColumnType.Uuid, false) => builder.Uuid(name, r => (Guid)r[c]!),
                (ArchiveColumnType.Uuid, true) => builder.NullableUuid(name, r => (Guid?)r[c]),
                (ArchiveColumnType.Timestamp, false) => builder.Timestamp(name, r => (DateTimeOffset)r[c]!),
                (ArchiveColumnType.Timestamp, true) => builder.NullableTimestamp(name, r => (DateTimeOffset?)r[c]),
                _ => throw new ArgumentOutOfRangeException(nameof(columns)),
            };
        }
        return builder.Build(null, r => columns.Select(column => column.Type switch
        {
            ArchiveColumnType.Int32 => column.Nullable ? r.NullableInt32(column.Name) : (object?)r.Int32(column.Name),
            ArchiveColumnType.Int64 => column.Nullable ? r.NullableInt64(column.Name) : r.Int64(column.Name),
            ArchiveColumnType.Double => column.Nullable ? r.NullableDouble(column.Name) : r.Double(column.Name),
            ArchiveColumnType.Boolean => column.Nullable ? r.NullableBoolean(column.Name) : r.Boolean(column.Name),
            ArchiveColumnType.String => column.Nullable ? r.NullableString(column.Name) : r.String(column.Name),
            ArchiveColumnType.Json => column.Nullable ? r.NullableJson(column.Name) : r.Json(column.Name),
            ArchiveColumnType.Uuid => column.Nullable ? r.NullableUuid(column.Name) : r.Uuid(column.Name),
            ArchiveColumnType.Timestamp => column.Nullable ? r.NullableTimestamp(column.Name) : r.Timestamp(column.Name),
            _ => throw new ArgumentOutOfRangeException(nameof(columns)),
        }).ToArray());
    }

    /// <summary>A write-only, non-seekable destination that remembers what reached it.</summary>
    private sealed class ForwardOnlyStream : Stream
    {
        public ArrayBufferWriter<byte> Bytes { get; } = new();

        public long Written => Bytes.WrittenCount;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Bytes.Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
