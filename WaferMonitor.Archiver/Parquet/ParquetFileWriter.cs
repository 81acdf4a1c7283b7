using ParquetSharp;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Writes one Parquet file through ParquetSharp to a forward-only stream. Rows are buffered per column for one row
/// group at a time, so memory stays bounded by <see cref="ParquetWriteOptions.RowGroupRows"/> and
/// <see cref="ParquetWriteOptions.RowGroupBytes"/>; each full group goes to the stream when it closes.
/// </summary>
internal sealed class ParquetFileWriter : IDisposable
{
    // Checking the byte estimate every row would cost more than the check is worth.
    private const int ByteCheckInterval = 256;

    private const int DefaultGzipLevel = 6;

    private readonly CountingStream _destination;
    private readonly ParquetWriteOptions _options;
    private readonly WriterProperties _properties;
    private readonly ParquetSharp.ParquetFileWriter _writer;
    private int _bufferedRows;
    private bool _completed;

    public ParquetFileWriter(Stream destination, IReadOnlyList<ArchiveColumn> columns, ParquetWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("The destination stream is not writable.", nameof(destination));
        }
        if (columns.Count == 0 || columns.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != columns.Count)
        {
            throw new ArgumentException("A Parquet file needs at least one column and unique column names.", nameof(columns));
        }
        options.Validate();
        _options = options;
        _destination = new CountingStream(destination);
        _properties = Properties(options, columns);
        using var schema = ParquetSchemaMapping.ToSchema(columns);
        _writer = new ParquetSharp.ParquetFileWriter(_destination, schema, _properties, keyValueMetadata: null, leaveOpen: true);
        Columns = columns.Select(ColumnBuffer.Create).ToArray();
    }

    public ColumnBuffer[] Columns { get; }

    public long RowCount { get; private set; }

    public long BytesWritten => _destination.Count;

    /// <summary>Closes the row every column has just received a value for; true when the row group is full.</summary>
    public bool EndRow()
    {
        _bufferedRows++;
        RowCount++;
        foreach (var column in Columns)
        {
            if (column.Count != _bufferedRows)
            {
                throw new InvalidOperationException($"Column {column.Column.Name} has {column.Count} values for {_bufferedRows} rows.");
            }
        }
        return _bufferedRows >= _options.RowGroupRows
            || (_bufferedRows % ByteCheckInterval == 0 && Columns.Sum(c => c.EstimatedBytes) >= _options.RowGroupBytes);
    }

    public void FlushRowGroup()
    {
        if (_bufferedRows == 0)
        {
            return;
        }
        using (var group = _writer.AppendRowGroup())
        {
            foreach (var column in Columns)
            {
                using var writer = group.NextColumn();
                column.WriteTo(writer);
                column.Clear();
            }
        }
        _bufferedRows = 0;
    }

    /// <summary>Writes the last row group and the footer; an empty file still gets its schema.</summary>
    public void Complete()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The file is already complete.");
        }
        FlushRowGroup();
        _writer.Close();
        _destination.Flush();
        _completed = true;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _properties.Dispose();
    }

    private static WriterProperties Properties(ParquetWriteOptions options, IReadOnlyList<ArchiveColumn> columns)
    {
        using var builder = new WriterPropertiesBuilder()
            .Compression(options.Compression switch
            {
                ParquetCompression.None => Compression.Uncompressed,
                ParquetCompression.Gzip => Compression.Gzip,
                ParquetCompression.Snappy => Compression.Snappy,
                ParquetCompression.Zstd => Compression.Zstd,
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Compression, "Unknown compression."),
            })
            .DataPagesize(options.PageBytes)
            .DictionaryPagesizeLimit(options.DictionaryBytes)
            .SetMaxStatisticsSize((ulong)options.StatisticsMaxValueBytes);
        if ((options.CompressionLevel ?? (options.Compression == ParquetCompression.Gzip ? DefaultGzipLevel : null)) is { } level)
        {
            builder.CompressionLevel(level);
        }
        // Dictionaries only where values repeat: on unique numbers, times and UUIDs they made ZSTD files 10 % larger.
        builder.DisableDictionary();
        foreach (var column in columns.Where(c => options.Dictionary && c.Type is ArchiveColumnType.String or ArchiveColumnType.Json))
        {
            builder.EnableDictionary(column.Name);
        }
        return builder.Build();
    }
}
