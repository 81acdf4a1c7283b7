using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Writes one Parquet file to a forward-only stream. Rows are buffered per column for one row group at a time,
/// so memory stays bounded by <see cref="ParquetWriteOptions.RowGroupRows"/> and <see cref="ParquetWriteOptions.RowGroupBytes"/>.
/// </summary>
internal sealed class ParquetFileWriter
{
    internal static ReadOnlySpan<byte> Magic => "PAR1"u8;

    private const string CreatedBy = "WaferMonitor.Archiver version 0.1.0";

    // Checking the byte estimate every row would cost more than the check is worth.
    private const int ByteCheckInterval = 256;

    private readonly Stream _destination;
    private readonly ParquetWriteOptions _options;
    private readonly List<RowGroup> _rowGroups = [];
    private readonly ArrayBufferWriter<byte> _chunk = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _page = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _levels = new(4 * 1024);
    private long _position;
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
        _destination = destination;
        _options = options;
        Schema = columns;
        Columns = columns.Select(c => ColumnBuffer.Create(c, options)).ToArray();
    }

    public IReadOnlyList<ArchiveColumn> Schema { get; }

    public ColumnBuffer[] Columns { get; }

    public long RowCount { get; private set; }

    public long BytesWritten => _position;

    /// <summary>Closes the row every column has just received a value for; true when the row group is full.</summary>
    public bool EndRow()
    {
        _bufferedRows++;
        RowCount++;
        foreach (var column in Columns)
        {
            if (column.RowCount != _bufferedRows)
            {
                throw new InvalidOperationException(
                    $"Column {column.Column.Name} has {column.RowCount} values for {_bufferedRows} rows.");
            }
        }
        return _bufferedRows >= _options.RowGroupRows
            || (_bufferedRows % ByteCheckInterval == 0 && Columns.Sum(c => c.EstimatedBytes) >= _options.RowGroupBytes);
    }

    public async ValueTask FlushRowGroupAsync(CancellationToken ct)
    {
        if (_bufferedRows == 0)
        {
            return;
        }
        await WriteMagicOnceAsync(ct).ConfigureAwait(false);
        var group = new RowGroup { NumRows = _bufferedRows, FileOffset = _position, Ordinal = checked((short)_rowGroups.Count) };
        foreach (var column in Columns)
        {
            _chunk.ResetWrittenCount();
            var metaData = EncodeColumnChunk(column);
            await _destination.WriteAsync(_chunk.WrittenMemory, ct).ConfigureAwait(false);
            _position += _chunk.WrittenCount;
            group.Columns.Add(metaData);
            group.TotalByteSize += metaData.TotalUncompressedSize;
            group.TotalCompressedSize += metaData.TotalCompressedSize;
            column.Reset();
        }
        _rowGroups.Add(group);
        _bufferedRows = 0;
    }

    /// <summary>Flushes the last row group and writes the footer; the file is valid only after this.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (_completed)
        {
            return;
        }
        await FlushRowGroupAsync(ct).ConfigureAwait(false);
        await WriteMagicOnceAsync(ct).ConfigureAwait(false);
        var metadata = new FileMetaData
        {
            Schema = BuildSchema(Schema),
            NumRows = RowCount,
            RowGroups = _rowGroups,
            CreatedBy = CreatedBy,
        };
        var footer = new ArrayBufferWriter<byte>();
        metadata.Write(new ThriftCompactWriter(footer));
        BinaryPrimitives.WriteInt32LittleEndian(footer.GetSpan(4), footer.WrittenCount);
        footer.Advance(4);
        footer.Write(Magic);
        await _destination.WriteAsync(footer.WrittenMemory, ct).ConfigureAwait(false);
        _position += footer.WrittenCount;
        await _destination.FlushAsync(ct).ConfigureAwait(false);
        _completed = true;
    }

    internal static List<SchemaElement> BuildSchema(IReadOnlyList<ArchiveColumn> columns)
    {
        var schema = new List<SchemaElement> { new() { Name = "schema", NumChildren = columns.Count } };
        foreach (var column in columns)
        {
            var element = new SchemaElement
            {
                Name = column.Name,
                RepetitionType = column.Nullable ? Repetition.Optional : Repetition.Required,
            };
            switch (column.Type)
            {
                case ArchiveColumnType.Int32: element.Type = PhysicalType.Int32; break;
                case ArchiveColumnType.Int64: element.Type = PhysicalType.Int64; break;
                case ArchiveColumnType.Double: element.Type = PhysicalType.Double; break;
                case ArchiveColumnType.Boolean: element.Type = PhysicalType.Boolean; break;
                case ArchiveColumnType.String:
                    element.Type = PhysicalType.ByteArray;
                    element.ConvertedType = (int)ConvertedType.Utf8;
                    element.Logical = LogicalKind.String;
                    break;
                case ArchiveColumnType.Json:
                    element.Type = PhysicalType.ByteArray;
                    element.ConvertedType = (int)ConvertedType.Json;
                    element.Logical = LogicalKind.Json;
                    break;
                case ArchiveColumnType.Uuid:
                    element.Type = PhysicalType.FixedLenByteArray;
                    element.TypeLength = 16;
                    element.Logical = LogicalKind.Uuid;
                    break;
                case ArchiveColumnType.Timestamp:
                    element.Type = PhysicalType.Int64;
                    element.ConvertedType = (int)ConvertedType.TimestampMicros;
                    element.Logical = LogicalKind.Timestamp;
                    element.LogicalTimeUnit = TimeUnit.Micros;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(columns), column.Type, "Unknown column type.");
            }
            schema.Add(element);
        }
        return schema;
    }

    private async ValueTask WriteMagicOnceAsync(CancellationToken ct)
    {
        if (_position == 0)
        {
            await _destination.WriteAsync(Magic.ToArray(), ct).ConfigureAwait(false);
            _position = Magic.Length;
        }
    }

    /// <summary>Encodes the column's buffered values as pages into <see cref="_chunk"/>; offsets assume it lands at <see cref="_position"/>.</summary>
    private ColumnMetaData EncodeColumnChunk(ColumnBuffer column)
    {
        column.Seal();
        var codec = _options.Compression == ParquetCompression.Gzip ? Codec.Gzip : Codec.Uncompressed;
        var metaData = new ColumnMetaData
        {
            Type = column.PhysicalType,
            PathInSchema = [column.Column.Name],
            Codec = codec,
            NumValues = column.RowCount,
            Statistics = column.BuildStatistics(_options),
        };
        var valueEncoding = ParquetEncoding.Plain;
        long uncompressed = 0;
        if (column.DictionaryCount > 0)
        {
            metaData.DictionaryPageOffset = _position + _chunk.WrittenCount;
            _page.ResetWrittenCount();
            column.WriteDictionary(_page);
            uncompressed += WritePage(PageType.DictionaryPage, column.DictionaryCount, ParquetEncoding.Plain, _page.WrittenSpan);
            valueEncoding = ParquetEncoding.RleDictionary;
        }
        metaData.DataPageOffset = _position + _chunk.WrittenCount;
        metaData.Encodings = column.DictionaryCount > 0
            ? [ParquetEncoding.Plain, ParquetEncoding.Rle, ParquetEncoding.RleDictionary]
            : [ParquetEncoding.Plain, ParquetEncoding.Rle];

        var rowsPerPage = (int)Math.Clamp(
            (long)_options.PageBytes * column.RowCount / Math.Max(1, column.EstimatedBytes), 1, column.RowCount);
        var levels = column.DefinitionLevels;
        var value = 0;
        for (var row = 0; row < column.RowCount; row += rowsPerPage)
        {
            var rows = Math.Min(rowsPerPage, column.RowCount - row);
            _page.ResetWrittenCount();
            var values = rows;
            if (column.Column.Nullable)
            {
                var pageLevels = levels.Slice(row, rows);
                values = rows - pageLevels.Count((byte)0);
                WriteDefinitionLevels(pageLevels);
            }
            column.WriteValues(value, value + values, _page);
            value += values;
            uncompressed += WritePage(PageType.DataPage, rows, valueEncoding, _page.WrittenSpan);
        }
        metaData.TotalUncompressedSize = uncompressed;
        metaData.TotalCompressedSize = _position + _chunk.WrittenCount - (metaData.DictionaryPageOffset ?? metaData.DataPageOffset);
        return metaData;
    }

    /// <summary>DATA_PAGE (v1) levels: a 4-byte length, then the RLE/bit-packed hybrid at bit width 1.</summary>
    private void WriteDefinitionLevels(ReadOnlySpan<byte> levels)
    {
        var expanded = ArrayPool<int>.Shared.Rent(levels.Length);
        try
        {
            for (var i = 0; i < levels.Length; i++)
            {
                expanded[i] = levels[i];
            }
            _levels.ResetWrittenCount();
            RleBitPackedHybrid.Encode(expanded.AsSpan(0, levels.Length), 1, _levels);
            BinaryPrimitives.WriteInt32LittleEndian(_page.GetSpan(4), _levels.WrittenCount);
            _page.Advance(4);
            _page.Write(_levels.WrittenSpan);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(expanded);
        }
    }

    /// <summary>Appends header and (compressed) body to the chunk; returns the page's uncompressed size with header.</summary>
    private int WritePage(PageType type, int numValues, ParquetEncoding encoding, ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> stored = body;
        if (_options.Compression == ParquetCompression.Gzip)
        {
            using var buffer = new MemoryStream(body.Length / 2 + 64);
            using (var gzip = new GZipStream(buffer, _options.GzipLevel, leaveOpen: true))
            {
                gzip.Write(body);
            }
            stored = buffer.ToArray();
        }
        var header = new PageHeader
        {
            Type = type,
            UncompressedPageSize = body.Length,
            CompressedPageSize = stored.Length,
            NumValues = numValues,
            Encoding = encoding,
        };
        var headerStart = _chunk.WrittenCount;
        header.Write(new ThriftCompactWriter(_chunk));
        var headerLength = _chunk.WrittenCount - headerStart;
        _chunk.Write(stored);
        return headerLength + body.Length;
    }
}
