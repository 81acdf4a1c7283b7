namespace WaferMonitor.Archiver.Parquet;

/// <summary>The archive format as Parquet files, written and read by ParquetSharp (Apache Arrow's C++ Parquet library).</summary>
public sealed class ParquetArchiveFormat(ParquetWriteOptions? options = null) : IArchiveFileFormat
{
    private readonly ParquetWriteOptions _options = options ?? new ParquetWriteOptions();

    public string FileExtension => ".parquet";

    public IArchiveFileWriter<TRow> CreateWriter<TRow>(ArchiveTable<TRow> table, Stream destination) =>
        new TableWriter<TRow>(table, new ParquetFileWriter(destination, table.Columns, _options));

    // ParquetSharp reads synchronously; the files are local copies, so the async surface only wraps the iteration.
    public IAsyncEnumerable<TRow> ReadRowsAsync<TRow>(
        ArchiveTable<TRow> table, Stream source, ArchiveTimeRange? range = null, CancellationToken ct = default) =>
        ReadRows(table, source, range, ct).ToAsyncEnumerable();

    public IAsyncEnumerable<ArchiveColumnBatch> ReadColumnsAsync(
        Stream source, IReadOnlyList<string>? columns = null, ArchiveTimeRange? range = null, CancellationToken ct = default) =>
        ReadColumns(source, columns, range, ct).ToAsyncEnumerable();

    public Task<IReadOnlyList<ArchiveColumn>> ReadSchemaAsync(Stream source, CancellationToken ct = default)
    {
        using var reader = ParquetFileReader.Open(source);
        return Task.FromResult(reader.Schema);
    }

    private static IEnumerable<TRow> ReadRows<TRow>(ArchiveTable<TRow> table, Stream source, ArchiveTimeRange? range, CancellationToken ct)
    {
        using var reader = ParquetFileReader.Open(source);
        var projection = Resolve(reader, table.Columns.Select(c => c.Name).ToList());
        foreach (var (column, index) in table.Columns.Zip(projection))
        {
            var stored = reader.Schema[index];
            if (stored.Type != column.Type && !(IsText(stored.Type) && IsText(column.Type)))
            {
                throw new InvalidDataException($"Column {column.Name} is {stored.Type} in the file but {column.Type} in table {table.Name}.");
            }
        }
        foreach (var batch in ReadBatches(reader, projection, range, ct))
        {
            var rowReader = new ArchiveRowReader(batch.Columns);
            for (var row = 0; row < batch.RowCount; row++)
            {
                rowReader.MoveTo(row);
                yield return table.ReadRow(rowReader);
            }
        }
    }

    private static IEnumerable<ArchiveColumnBatch> ReadColumns(
        Stream source, IReadOnlyList<string>? columns, ArchiveTimeRange? range, CancellationToken ct)
    {
        using var reader = ParquetFileReader.Open(source);
        var projection = Resolve(reader, columns ?? reader.Schema.Select(c => c.Name).ToList());
        foreach (var batch in ReadBatches(reader, projection, range, ct))
        {
            yield return batch;
        }
    }

    // JSON is text to the archive's records: a STRING column of another writer reads into a Json column and back.
    private static bool IsText(ArchiveColumnType type) => type is ArchiveColumnType.String or ArchiveColumnType.Json;

    private static List<int> Resolve(ParquetFileReader reader, IReadOnlyList<string> names) =>
        names.Select(name =>
        {
            for (var i = 0; i < reader.Schema.Count; i++)
            {
                if (reader.Schema[i].Name == name)
                {
                    return i;
                }
            }
            throw new InvalidDataException($"The file has no column {name}.");
        }).ToList();

    private static IEnumerable<ArchiveColumnBatch> ReadBatches(
        ParquetFileReader reader, List<int> projection, ArchiveTimeRange? range, CancellationToken ct)
    {
        var timeColumn = -1;
        if (range is not null)
        {
            timeColumn = Resolve(reader, [range.Column])[0];
            if (reader.Schema[timeColumn].Type != ArchiveColumnType.Timestamp)
            {
                throw new ArgumentException($"Range column {range.Column} is not a timestamp column.", nameof(range));
            }
        }
        // The time column is read for filtering even when it is not projected; it then rides along at the end.
        var toRead = timeColumn >= 0 && !projection.Contains(timeColumn) ? [.. projection, timeColumn] : projection;
        for (var group = 0; group < reader.RowGroupCount; group++)
        {
            ct.ThrowIfCancellationRequested();
            if (range is not null && !reader.MayOverlap(group, timeColumn, range))
            {
                continue;
            }
            var values = reader.ReadRowGroup(group, toRead);
            var rowCount = checked((int)reader.RowGroupRowCount(group));
            IReadOnlyList<ArchiveColumnValues> columns = values.Take(projection.Count).ToArray();
            if (range is not null)
            {
                var times = values[toRead.IndexOf(timeColumn)];
                var keep = new List<int>(rowCount);
                for (var row = 0; row < rowCount; row++)
                {
                    if (times.GetTimestampMicros(row) is { } micros && range.Contains(micros))
                    {
                        keep.Add(row);
                    }
                }
                if (keep.Count == 0)
                {
                    continue;
                }
                if (keep.Count < rowCount)
                {
                    var rows = keep.ToArray();
                    columns = columns.Select(c => c.Select(rows)).ToArray();
                    rowCount = rows.Length;
                }
            }
            yield return new ArchiveColumnBatch(rowCount, columns);
        }
    }

    private sealed class TableWriter<TRow>(ArchiveTable<TRow> table, ParquetFileWriter writer) : IArchiveFileWriter<TRow>
    {
        private bool _faulted;

        public long RowCount => writer.RowCount;

        public long BytesWritten => writer.BytesWritten;

        // ParquetSharp writes synchronously (native code calling back into the stream): the awaits are for the interface.
        public ValueTask WriteAsync(TRow row, CancellationToken ct = default)
        {
            ThrowIfFaulted();
            try
            {
                table.WriteRow(row, writer.Columns);
            }
            catch
            {
                // Some columns took the row and others did not: the row group cannot be completed consistently.
                _faulted = true;
                throw;
            }
            if (writer.EndRow())
            {
                ct.ThrowIfCancellationRequested();
                writer.FlushRowGroup();
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(CancellationToken ct = default)
        {
            ThrowIfFaulted();
            ct.ThrowIfCancellationRequested();
            writer.Complete();
            return ValueTask.CompletedTask;
        }

        public void Dispose() => writer.Dispose();

        private void ThrowIfFaulted()
        {
            if (_faulted)
            {
                throw new InvalidOperationException("A row failed to map; this file cannot be completed. Start a new one.");
            }
        }
    }
}
