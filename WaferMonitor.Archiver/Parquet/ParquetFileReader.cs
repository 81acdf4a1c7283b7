using System.Buffers.Binary;
using System.IO.Compression;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Reads flat Parquet files: PLAIN and dictionary encodings, DATA_PAGE v1 and v2, uncompressed or GZIP pages —
/// what this writer emits and what common writers (DuckDB, Arrow) emit by default for these types.
/// </summary>
internal sealed class ParquetFileReader
{
    private readonly Stream _source;
    private readonly FileMetaData _metadata;

    private ParquetFileReader(Stream source, FileMetaData metadata)
    {
        _source = source;
        _metadata = metadata;
        Schema = MapSchema(metadata.Schema);
    }

    public IReadOnlyList<ArchiveColumn> Schema { get; }

    public int RowGroupCount => _metadata.RowGroups.Count;

    public long RowCount => _metadata.NumRows;

    public static async Task<ParquetFileReader> OpenAsync(Stream source, CancellationToken ct)
    {
        if (!source.CanSeek || !source.CanRead)
        {
            throw new ArgumentException("Reading Parquet needs a readable, seekable stream (download to a file or memory first).", nameof(source));
        }
        var magicLength = ParquetFileWriter.Magic.Length;
        if (source.Length < 2 * magicLength + 4)
        {
            throw new InvalidDataException("Too short to be a Parquet file.");
        }
        var tail = new byte[4 + magicLength];
        source.Position = source.Length - tail.Length;
        await source.ReadExactlyAsync(tail, ct).ConfigureAwait(false);
        var head = new byte[magicLength];
        source.Position = 0;
        await source.ReadExactlyAsync(head, ct).ConfigureAwait(false);
        if (!tail.AsSpan(4).SequenceEqual(ParquetFileWriter.Magic) || !head.AsSpan().SequenceEqual(ParquetFileWriter.Magic))
        {
            throw new InvalidDataException("Not a Parquet file (magic bytes missing), or an encrypted one.");
        }
        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > source.Length - tail.Length - magicLength)
        {
            throw new InvalidDataException($"Parquet footer length {footerLength} does not fit the file.");
        }
        var footer = new byte[footerLength];
        source.Position = source.Length - tail.Length - footerLength;
        await source.ReadExactlyAsync(footer, ct).ConfigureAwait(false);
        return new ParquetFileReader(source, FileMetaData.Read(new ThriftCompactReader(footer)));
    }

    public long RowGroupRowCount(int rowGroup) => _metadata.RowGroups[rowGroup].NumRows;

    /// <summary>False when the row group's statistics prove no row can fall in the range.</summary>
    public bool MayOverlap(int rowGroup, int column, ArchiveTimeRange range)
    {
        var stats = _metadata.RowGroups[rowGroup].Columns[column].Statistics;
        var min = stats?.MinValue ?? stats?.Min;
        var max = stats?.MaxValue ?? stats?.Max;
        if (min is not { Length: 8 } || max is not { Length: 8 })
        {
            // No statistics, or an all-null chunk: only reading it can tell.
            return !(stats?.NullCount is { } nulls && nulls == _metadata.RowGroups[rowGroup].NumRows);
        }
        return range.MayOverlap(BinaryPrimitives.ReadInt64LittleEndian(min), BinaryPrimitives.ReadInt64LittleEndian(max));
    }

    public async Task<ArchiveColumnValues[]> ReadRowGroupAsync(int rowGroup, IReadOnlyList<int> columns, CancellationToken ct)
    {
        var group = _metadata.RowGroups[rowGroup];
        var rows = checked((int)group.NumRows);
        var result = new ArchiveColumnValues[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            var chunk = group.Columns[columns[i]];
            var start = chunk.DictionaryPageOffset is { } dictionaryOffset && dictionaryOffset > 0 && dictionaryOffset < chunk.DataPageOffset
                ? dictionaryOffset
                : chunk.DataPageOffset;
            var bytes = new byte[checked((int)chunk.TotalCompressedSize)];
            _source.Position = start;
            await _source.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
            result[i] = DecodeChunk(Schema[columns[i]], chunk, bytes, rows);
        }
        return result;
    }

    private static ArchiveColumnValues DecodeChunk(ArchiveColumn column, ColumnMetaData chunk, byte[] bytes, int rows)
    {
        var values = new ArchiveColumnValues(column, rows);
        ArchiveColumnValues? dictionary = null;
        var position = 0;
        var row = 0;
        while (row < rows)
        {
            if (position >= bytes.Length)
            {
                throw new InvalidDataException($"Column {column.Name} ends after {row} of {rows} rows.");
            }
            var reader = new ThriftCompactReader(bytes, position);
            var header = PageHeader.Read(reader);
            var body = bytes.AsMemory(reader.Position, header.CompressedPageSize);
            position = reader.Position + header.CompressedPageSize;
            switch (header.Type)
            {
                case PageType.DictionaryPage:
                    var entries = Decompress(chunk.Codec, body, header.UncompressedPageSize);
                    dictionary = new ArchiveColumnValues(column with { Nullable = false }, header.NumValues);
                    dictionary.DecodePlain(entries.Span, Sequence(0, header.NumValues));
                    break;
                case PageType.DataPage:
                    var page = Decompress(chunk.Codec, body, header.UncompressedPageSize).Span;
                    var levelBytes = 0;
                    int[]? levels = null;
                    if (column.Nullable)
                    {
                        if (header.DefinitionLevelEncoding != ParquetEncoding.Rle)
                        {
                            throw new NotSupportedException($"Definition level encoding {header.DefinitionLevelEncoding} in column {column.Name}.");
                        }
                        var length = BinaryPrimitives.ReadInt32LittleEndian(page);
                        levels = new int[header.NumValues];
                        RleBitPackedHybrid.Decode(page.Slice(4, length), 1, levels);
                        levelBytes = 4 + length;
                    }
                    DecodeValues(values, dictionary, header.Encoding, page[levelBytes..], row, levels, header.NumValues);
                    row += header.NumValues;
                    break;
                case PageType.DataPageV2:
                    var levelsEnd = header.RepetitionLevelsByteLength + header.DefinitionLevelsByteLength;
                    int[]? levelsV2 = null;
                    if (column.Nullable)
                    {
                        levelsV2 = new int[header.NumValues];
                        RleBitPackedHybrid.Decode(
                            body.Span.Slice(header.RepetitionLevelsByteLength, header.DefinitionLevelsByteLength), 1, levelsV2);
                    }
                    var valueBytes = header.IsCompressed
                        ? Decompress(chunk.Codec, body[levelsEnd..], header.UncompressedPageSize - levelsEnd)
                        : body[levelsEnd..];
                    DecodeValues(values, dictionary, header.Encoding, valueBytes.Span, row, levelsV2, header.NumValues);
                    row += header.NumValues;
                    break;
                default:
                    break;
            }
        }
        return values;
    }

    private static void DecodeValues(
        ArchiveColumnValues values, ArchiveColumnValues? dictionary, ParquetEncoding encoding,
        ReadOnlySpan<byte> data, int firstRow, int[]? levels, int count)
    {
        if (firstRow + count > values.Count)
        {
            throw new InvalidDataException($"Column {values.Column.Name} has more values than its row group has rows.");
        }
        int[] rows;
        if (levels is null)
        {
            rows = Sequence(firstRow, count);
        }
        else
        {
            rows = new int[count - levels.AsSpan().Count(0)];
            var next = 0;
            for (var i = 0; i < count; i++)
            {
                if (levels[i] == 0)
                {
                    values.SetNull(firstRow + i);
                }
                else
                {
                    rows[next++] = firstRow + i;
                }
            }
        }
        switch (encoding)
        {
            case ParquetEncoding.Plain:
                values.DecodePlain(data, rows);
                break;
            case ParquetEncoding.PlainDictionary or ParquetEncoding.RleDictionary:
                if (dictionary is null)
                {
                    throw new InvalidDataException($"Column {values.Column.Name} has dictionary-encoded values but no dictionary page.");
                }
                var indices = new int[rows.Length];
                if (rows.Length > 0)
                {
                    RleBitPackedHybrid.Decode(data[1..], data[0], indices);
                }
                values.Gather(dictionary, indices, rows);
                break;
            case ParquetEncoding.Rle when values.Column.Type == ArchiveColumnType.Boolean:
                values.DecodeRleBooleans(data, rows);
                break;
            default:
                throw new NotSupportedException($"Encoding {encoding} in column {values.Column.Name} is not supported.");
        }
    }

    private static ReadOnlyMemory<byte> Decompress(Codec codec, ReadOnlyMemory<byte> body, int uncompressedSize)
    {
        switch (codec)
        {
            case Codec.Uncompressed:
                return body;
            case Codec.Gzip:
                var output = new byte[uncompressedSize];
                using (var gzip = new GZipStream(new ReadOnlyMemoryStream(body), CompressionMode.Decompress))
                {
                    gzip.ReadExactly(output);
                }
                return output;
            default:
                throw new NotSupportedException($"Compression codec {codec} is not supported (only UNCOMPRESSED and GZIP).");
        }
    }

    private static int[] Sequence(int start, int count)
    {
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = start + i;
        }
        return result;
    }

    private static List<ArchiveColumn> MapSchema(List<SchemaElement> schema)
    {
        if (schema.Count == 0 || schema[0].NumChildren != schema.Count - 1)
        {
            throw new NotSupportedException("Only flat Parquet schemas (no nested groups) are supported.");
        }
        return schema.Skip(1).Select(MapColumn).ToList();
    }

    private static ArchiveColumn MapColumn(SchemaElement e)
    {
        if (e.NumChildren is > 0 || e.RepetitionType == Repetition.Repeated)
        {
            throw new NotSupportedException($"Column {e.Name}: nested and repeated columns are not supported.");
        }
        var converted = (ConvertedType?)e.ConvertedType;
        ArchiveColumnType? type = e.Type switch
        {
            PhysicalType.Boolean => ArchiveColumnType.Boolean,
            PhysicalType.Int32 when e.Logical is LogicalKind.None or LogicalKind.Integer
                && converted is null or ConvertedType.Int32 => ArchiveColumnType.Int32,
            PhysicalType.Int64 when e.Logical == LogicalKind.Timestamp
                || (e.Logical == LogicalKind.None && converted == ConvertedType.TimestampMicros) => ArchiveColumnType.Timestamp,
            PhysicalType.Int64 when e.Logical is LogicalKind.None or LogicalKind.Integer
                && converted is null or ConvertedType.Int64 => ArchiveColumnType.Int64,
            PhysicalType.Double => ArchiveColumnType.Double,
            PhysicalType.ByteArray when e.Logical == LogicalKind.Json || converted == ConvertedType.Json => ArchiveColumnType.Json,
            PhysicalType.ByteArray when e.Logical == LogicalKind.String || converted == ConvertedType.Utf8 => ArchiveColumnType.String,
            PhysicalType.FixedLenByteArray when e.Logical == LogicalKind.Uuid && e.TypeLength == 16 => ArchiveColumnType.Uuid,
            _ => null,
        };
        if (type is null || (type == ArchiveColumnType.Timestamp && (e.LogicalTimeUnit ?? TimeUnit.Micros) != TimeUnit.Micros))
        {
            throw new NotSupportedException(
                $"Column {e.Name}: physical type {e.Type} with logical {e.Logical}/{e.LogicalTimeUnit} and converted type {e.ConvertedType} is not supported.");
        }
        return new ArchiveColumn(e.Name, type.Value, e.RepetitionType != Repetition.Required);
    }

    /// <summary>A read-only stream over memory, so GZIP can inflate straight from the chunk buffer.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => memory.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var take = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, take).CopyTo(buffer);
            _position += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
