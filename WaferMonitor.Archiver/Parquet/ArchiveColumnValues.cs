using System.Buffers.Binary;
using System.Text;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>The decoded values of one column for a run of rows (one row group), by row index.</summary>
public sealed class ArchiveColumnValues
{
    private readonly bool[]? _nulls;
    private readonly int[]? _ints;
    private readonly long[]? _longs;
    private readonly double[]? _doubles;
    private readonly bool[]? _bools;
    private readonly string?[]? _strings;
    private readonly Guid[]? _guids;

    internal ArchiveColumnValues(ArchiveColumn column, int count)
    {
        Column = column;
        Count = count;
        _nulls = column.Nullable ? new bool[count] : null;
        switch (column.Type)
        {
            case ArchiveColumnType.Int32: _ints = new int[count]; break;
            case ArchiveColumnType.Int64 or ArchiveColumnType.Timestamp: _longs = new long[count]; break;
            case ArchiveColumnType.Double: _doubles = new double[count]; break;
            case ArchiveColumnType.Boolean: _bools = new bool[count]; break;
            case ArchiveColumnType.String or ArchiveColumnType.Json: _strings = new string?[count]; break;
            case ArchiveColumnType.Uuid: _guids = new Guid[count]; break;
            default: throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type.");
        }
    }

    public ArchiveColumn Column { get; }

    public int Count { get; }

    public bool IsNull(int row) => _nulls is not null && _nulls[row];

    public int? GetInt32(int row) => IsNull(row) ? null : Typed(_ints, ArchiveColumnType.Int32)[row];

    public long? GetInt64(int row) => IsNull(row) ? null : Typed(_longs, ArchiveColumnType.Int64)[row];

    public double? GetDouble(int row) => IsNull(row) ? null : Typed(_doubles, ArchiveColumnType.Double)[row];

    public bool? GetBoolean(int row) => IsNull(row) ? null : Typed(_bools, ArchiveColumnType.Boolean)[row];

    /// <summary>STRING and JSON columns alike; JSON comes back as its text.</summary>
    public string? GetString(int row) => IsNull(row) ? null : Typed(_strings, ArchiveColumnType.String)[row];

    public Guid? GetUuid(int row) => IsNull(row) ? null : Typed(_guids, ArchiveColumnType.Uuid)[row];

    public DateTimeOffset? GetTimestamp(int row) => GetTimestampMicros(row) is { } micros ? Timestamps.FromMicros(micros) : null;

    /// <summary>Microseconds since the Unix epoch, as stored.</summary>
    public long? GetTimestampMicros(int row)
    {
        if (Column.Type != ArchiveColumnType.Timestamp)
        {
            throw new InvalidOperationException($"Column {Column.Name} is {Column.Type}, not Timestamp.");
        }
        return IsNull(row) ? null : _longs![row];
    }

    internal void SetNull(int row) => _nulls![row] = true;

    /// <summary>Decodes PLAIN values into the given rows; returns the bytes consumed.</summary>
    internal int DecodePlain(ReadOnlySpan<byte> data, ReadOnlySpan<int> rows)
    {
        var offset = 0;
        switch (Column.Type)
        {
            case ArchiveColumnType.Int32:
                Need(data, rows.Length * 4);
                foreach (var row in rows)
                {
                    _ints![row] = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
                    offset += 4;
                }
                break;
            case ArchiveColumnType.Int64 or ArchiveColumnType.Timestamp:
                Need(data, rows.Length * 8);
                foreach (var row in rows)
                {
                    _longs![row] = BinaryPrimitives.ReadInt64LittleEndian(data[offset..]);
                    offset += 8;
                }
                break;
            case ArchiveColumnType.Double:
                Need(data, rows.Length * 8);
                foreach (var row in rows)
                {
                    _doubles![row] = BinaryPrimitives.ReadDoubleLittleEndian(data[offset..]);
                    offset += 8;
                }
                break;
            case ArchiveColumnType.Boolean:
                Need(data, (rows.Length + 7) / 8);
                for (var i = 0; i < rows.Length; i++)
                {
                    _bools![rows[i]] = (data[i >> 3] & (1 << (i & 7))) != 0;
                }
                offset = (rows.Length + 7) / 8;
                break;
            case ArchiveColumnType.String or ArchiveColumnType.Json:
                foreach (var row in rows)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
                    _strings![row] = Encoding.UTF8.GetString(data.Slice(offset + 4, length));
                    offset += 4 + length;
                }
                break;
            case ArchiveColumnType.Uuid:
                Need(data, rows.Length * 16);
                foreach (var row in rows)
                {
                    _guids![row] = new Guid(data.Slice(offset, 16), bigEndian: true);
                    offset += 16;
                }
                break;
        }
        return offset;
    }

    /// <summary>Booleans in the RLE encoding (DATA_PAGE_V2 writers use it): the hybrid at bit width 1 behind a 4-byte length.</summary>
    internal void DecodeRleBooleans(ReadOnlySpan<byte> data, ReadOnlySpan<int> rows)
    {
        var bits = new int[rows.Length];
        RleBitPackedHybrid.Decode(data[4..], 1, bits);
        for (var i = 0; i < rows.Length; i++)
        {
            Typed(_bools, ArchiveColumnType.Boolean)[rows[i]] = bits[i] != 0;
        }
    }

    /// <summary>Copies dictionary entries <paramref name="indices"/> into <paramref name="rows"/>.</summary>
    internal void Gather(ArchiveColumnValues dictionary, ReadOnlySpan<int> indices, ReadOnlySpan<int> rows)
    {
        for (var i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)dictionary.Count)
            {
                throw new InvalidDataException($"Dictionary index {indices[i]} is out of range in column {Column.Name}.");
            }
        }
        switch (Column.Type)
        {
            case ArchiveColumnType.Int32: Copy(dictionary._ints!, _ints!, indices, rows); break;
            case ArchiveColumnType.Int64 or ArchiveColumnType.Timestamp: Copy(dictionary._longs!, _longs!, indices, rows); break;
            case ArchiveColumnType.Double: Copy(dictionary._doubles!, _doubles!, indices, rows); break;
            case ArchiveColumnType.Boolean: Copy(dictionary._bools!, _bools!, indices, rows); break;
            case ArchiveColumnType.String or ArchiveColumnType.Json: Copy(dictionary._strings!, _strings!, indices, rows); break;
            case ArchiveColumnType.Uuid: Copy(dictionary._guids!, _guids!, indices, rows); break;
        }
    }

    /// <summary>A new column holding only the given rows, in order.</summary>
    internal ArchiveColumnValues Select(ReadOnlySpan<int> rows)
    {
        var result = new ArchiveColumnValues(Column, rows.Length);
        var sequence = new int[rows.Length];
        for (var i = 0; i < sequence.Length; i++)
        {
            sequence[i] = i;
        }
        switch (Column.Type)
        {
            case ArchiveColumnType.Int32: Copy(_ints!, result._ints!, rows, sequence); break;
            case ArchiveColumnType.Int64 or ArchiveColumnType.Timestamp: Copy(_longs!, result._longs!, rows, sequence); break;
            case ArchiveColumnType.Double: Copy(_doubles!, result._doubles!, rows, sequence); break;
            case ArchiveColumnType.Boolean: Copy(_bools!, result._bools!, rows, sequence); break;
            case ArchiveColumnType.String or ArchiveColumnType.Json: Copy(_strings!, result._strings!, rows, sequence); break;
            case ArchiveColumnType.Uuid: Copy(_guids!, result._guids!, rows, sequence); break;
        }
        if (_nulls is not null)
        {
            Copy(_nulls, result._nulls!, rows, sequence);
        }
        return result;
    }

    private static void Copy<T>(T[] source, T[] target, ReadOnlySpan<int> from, ReadOnlySpan<int> to)
    {
        for (var i = 0; i < from.Length; i++)
        {
            target[to[i]] = source[from[i]];
        }
    }

    private T[] Typed<T>(T[]? values, ArchiveColumnType expected) =>
        values ?? throw new InvalidOperationException($"Column {Column.Name} is {Column.Type}, not {expected}.");

    private void Need(ReadOnlySpan<byte> data, int length)
    {
        if (data.Length < length)
        {
            throw new InvalidDataException($"A page of column {Column.Name} holds fewer values than its header says.");
        }
    }
}

/// <summary>The projected columns of one row group, after any time-range filtering.</summary>
public sealed class ArchiveColumnBatch(int rowCount, IReadOnlyList<ArchiveColumnValues> columns)
{
    public int RowCount { get; } = rowCount;

    public IReadOnlyList<ArchiveColumnValues> Columns { get; } = columns;

    public ArchiveColumnValues this[string name] =>
        Columns.FirstOrDefault(c => c.Column.Name == name)
        ?? throw new KeyNotFoundException($"Column {name} is not in this batch.");
}
