using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>A growable array that keeps its capacity across row groups, so steady-state writing does not allocate.</summary>
internal sealed class GrowArray<T>
{
    private T[] _items = new T[256];

    public int Count { get; private set; }

    public Span<T> Span => _items.AsSpan(0, Count);

    public void Add(T item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        _items[Count++] = item;
    }

    /// <summary>Reserves room for <paramref name="length"/> more items; <see cref="Advance"/> commits what was used.</summary>
    public Span<T> Reserve(int length)
    {
        if (Count + length > _items.Length)
        {
            Array.Resize(ref _items, Math.Max(_items.Length * 2, Count + length));
        }
        return _items.AsSpan(Count, length);
    }

    public void Advance(int length) => Count += length;

    public void Clear() => Count = 0;
}

/// <summary>One column's values for the row group being built, plus how to encode them.</summary>
internal abstract class ColumnBuffer(ArchiveColumn column, PhysicalType physicalType)
{
    // One byte per row: 1 when the value is present. Only kept for nullable columns.
    private readonly GrowArray<byte> _definitionLevels = new();

    public ArchiveColumn Column { get; } = column;

    public PhysicalType PhysicalType { get; } = physicalType;

    public int RowCount { get; private set; }

    public int NullCount { get; private set; }

    public int ValueCount => RowCount - NullCount;

    public ReadOnlySpan<byte> DefinitionLevels => _definitionLevels.Span;

    public abstract long EstimatedBytes { get; }

    /// <summary>Entries of the dictionary when the chunk is dictionary-encoded, else 0.</summary>
    public virtual int DictionaryCount => 0;

    public virtual void WriteDictionary(ArrayBufferWriter<byte> output) =>
        throw new InvalidOperationException($"Column {Column.Name} has no dictionary.");

    /// <summary>Writes values [from, to) (indices among the non-null values) in the chunk's value encoding.</summary>
    public abstract void WriteValues(int from, int to, ArrayBufferWriter<byte> output);

    public abstract Statistics BuildStatistics(ParquetWriteOptions options);

    /// <summary>Called once before the chunk is encoded, to settle its final encoding.</summary>
    public virtual void Seal()
    {
    }

    public virtual void Reset()
    {
        _definitionLevels.Clear();
        RowCount = 0;
        NullCount = 0;
    }

    protected void MarkNull()
    {
        if (!Column.Nullable)
        {
            throw new ArgumentException($"Column {Column.Name} is not nullable but got null.");
        }
        _definitionLevels.Add(0);
        NullCount++;
        RowCount++;
    }

    protected void MarkValue()
    {
        if (Column.Nullable)
        {
            _definitionLevels.Add(1);
        }
        RowCount++;
    }

    public static ColumnBuffer Create(ArchiveColumn column, ParquetWriteOptions options) => column.Type switch
    {
        ArchiveColumnType.Int32 => new NumberColumnBuffer<int>(column, PhysicalType.Int32),
        ArchiveColumnType.Int64 or ArchiveColumnType.Timestamp => new NumberColumnBuffer<long>(column, PhysicalType.Int64),
        ArchiveColumnType.Double => new NumberColumnBuffer<double>(column, PhysicalType.Double),
        ArchiveColumnType.Boolean => new BooleanColumnBuffer(column),
        ArchiveColumnType.Uuid => new UuidColumnBuffer(column),
        ArchiveColumnType.String or ArchiveColumnType.Json => new ByteArrayColumnBuffer(column, options),
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };
}

internal sealed class NumberColumnBuffer<T>(ArchiveColumn column, PhysicalType physicalType)
    : ColumnBuffer(column, physicalType)
    where T : unmanaged, INumber<T>
{
    private readonly GrowArray<T> _values = new();

    public override long EstimatedBytes => (long)_values.Count * Marshal.SizeOf<T>();

    public void Add(T value)
    {
        _values.Add(value);
        MarkValue();
    }

    public void Add(T? value)
    {
        if (value is { } present)
        {
            Add(present);
        }
        else
        {
            MarkNull();
        }
    }

    // PLAIN is little-endian, as is every platform .NET runs on in practice; the reinterpretation avoids a copy loop.
    public override void WriteValues(int from, int to, ArrayBufferWriter<byte> output) =>
        output.Write(MemoryMarshal.AsBytes(_values.Span[from..to]));

    public override Statistics BuildStatistics(ParquetWriteOptions options)
    {
        var stats = new Statistics { NullCount = NullCount };
        var found = false;
        T min = T.Zero, max = T.Zero;
        long nans = 0;
        foreach (var value in _values.Span)
        {
            if (T.IsNaN(value))
            {
                nans++;
                continue;
            }
            if (!found)
            {
                min = max = value;
                found = true;
            }
            else if (value < min)
            {
                min = value;
            }
            else if (value > max)
            {
                max = value;
            }
        }
        if (typeof(T) == typeof(double))
        {
            stats.NanCount = nans;
        }
        if (found)
        {
            // parquet.thrift: a zero minimum is written as -0.0 and a zero maximum as +0.0 so either zero matches.
            if (T.IsZero(min))
            {
                min = -T.Zero;
            }
            if (T.IsZero(max))
            {
                max = T.Zero;
            }
            stats.MinValue = stats.Min = MemoryMarshal.AsBytes(new[] { min }.AsSpan()).ToArray();
            stats.MaxValue = stats.Max = MemoryMarshal.AsBytes(new[] { max }.AsSpan()).ToArray();
        }
        return stats;
    }

    public override void Reset()
    {
        base.Reset();
        _values.Clear();
    }
}

internal sealed class BooleanColumnBuffer(ArchiveColumn column) : ColumnBuffer(column, PhysicalType.Boolean)
{
    private readonly GrowArray<bool> _values = new();

    public override long EstimatedBytes => _values.Count / 8 + 1;

    public void Add(bool? value)
    {
        if (value is { } present)
        {
            _values.Add(present);
            MarkValue();
        }
        else
        {
            MarkNull();
        }
    }

    public override void WriteValues(int from, int to, ArrayBufferWriter<byte> output)
    {
        var values = _values.Span[from..to];
        var byteCount = (values.Length + 7) / 8;
        var span = output.GetSpan(byteCount)[..byteCount];
        span.Clear();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i])
            {
                span[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
        output.Advance(byteCount);
    }

    public override Statistics BuildStatistics(ParquetWriteOptions options)
    {
        var stats = new Statistics { NullCount = NullCount };
        var values = _values.Span;
        if (values.Length > 0)
        {
            var min = values.Contains(false) ? (byte)0 : (byte)1;
            var max = values.Contains(true) ? (byte)1 : (byte)0;
            stats.MinValue = stats.Min = [min];
            stats.MaxValue = stats.Max = [max];
        }
        return stats;
    }

    public override void Reset()
    {
        base.Reset();
        _values.Clear();
    }
}

internal sealed class UuidColumnBuffer(ArchiveColumn column) : ColumnBuffer(column, PhysicalType.FixedLenByteArray)
{
    private readonly GrowArray<byte> _bytes = new();

    public override long EstimatedBytes => _bytes.Count;

    public void Add(Guid? value)
    {
        if (value is { } present)
        {
            // The UUID logical type stores the 16 bytes in RFC 4122 (big-endian) order, unlike Guid's memory layout.
            present.TryWriteBytes(_bytes.Reserve(16), bigEndian: true, out _);
            _bytes.Advance(16);
            MarkValue();
        }
        else
        {
            MarkNull();
        }
    }

    public override void WriteValues(int from, int to, ArrayBufferWriter<byte> output) =>
        output.Write(_bytes.Span[(from * 16)..(to * 16)]);

    public override Statistics BuildStatistics(ParquetWriteOptions options)
    {
        var stats = new Statistics { NullCount = NullCount };
        var bytes = _bytes.Span;
        if (bytes.Length > 0)
        {
            ReadOnlySpan<byte> min = bytes[..16], max = bytes[..16];
            for (var offset = 16; offset < bytes.Length; offset += 16)
            {
                var value = bytes.Slice(offset, 16);
                if (value.SequenceCompareTo(min) < 0)
                {
                    min = value;
                }
                else if (value.SequenceCompareTo(max) > 0)
                {
                    max = value;
                }
            }
            stats.MinValue = min.ToArray();
            stats.MaxValue = max.ToArray();
        }
        return stats;
    }

    public override void Reset()
    {
        base.Reset();
        _bytes.Clear();
    }
}

/// <summary>
/// STRING and JSON values. Starts dictionary-encoded and converts the chunk to PLAIN as soon as the column shows
/// itself high-cardinality (more than half the values distinct) or the dictionary outgrows its limit.
/// </summary>
internal sealed class ByteArrayColumnBuffer : ColumnBuffer
{
    private const int CardinalityCheckInterval = 1024;

    private readonly ParquetWriteOptions _options;
    private readonly Dictionary<string, int> _lookup = new(StringComparer.Ordinal);
    private readonly GrowArray<int> _indices = new();

    // Dictionary entries (dictionary mode) or every value (PLAIN mode): UTF-8 bytes back to back, with end offsets.
    private readonly GrowArray<byte> _bytes = new();
    private readonly GrowArray<int> _ends = new();
    private bool _dictionaryMode;

    public ByteArrayColumnBuffer(ArchiveColumn column, ParquetWriteOptions options) : base(column, PhysicalType.ByteArray)
    {
        _options = options;
        _dictionaryMode = options.Dictionary;
    }

    public override long EstimatedBytes => _bytes.Count + 4L * _ends.Count + 4L * _indices.Count;

    public override int DictionaryCount => _dictionaryMode ? _ends.Count : 0;

    public void Add(string? value)
    {
        if (value is null)
        {
            MarkNull();
            return;
        }
        MarkValue();
        if (!_dictionaryMode)
        {
            Append(value);
            return;
        }
        if (!_lookup.TryGetValue(value, out var index))
        {
            index = _ends.Count;
            _lookup.Add(value, index);
            Append(value);
        }
        _indices.Add(index);
        if (_bytes.Count > _options.DictionaryBytes
            || (_indices.Count % CardinalityCheckInterval == 0 && _ends.Count > _indices.Count / 2))
        {
            FallBackToPlain();
        }
    }

    // A chunk smaller than the running check interval may still be mostly distinct; PLAIN is smaller then.
    public override void Seal()
    {
        if (_dictionaryMode && _ends.Count > _indices.Count / 2)
        {
            FallBackToPlain();
        }
    }

    public override void WriteDictionary(ArrayBufferWriter<byte> output) => WritePlain(0, _ends.Count, output);

    public override void WriteValues(int from, int to, ArrayBufferWriter<byte> output)
    {
        if (!_dictionaryMode)
        {
            WritePlain(from, to, output);
            return;
        }
        var bitWidth = RleBitPackedHybrid.BitWidth(Math.Max(1, _ends.Count - 1));
        output.GetSpan(1)[0] = (byte)bitWidth;
        output.Advance(1);
        RleBitPackedHybrid.Encode(_indices.Span[from..to], bitWidth, output);
    }

    public override Statistics BuildStatistics(ParquetWriteOptions options)
    {
        var stats = new Statistics { NullCount = NullCount };
        if (_ends.Count == 0)
        {
            return stats;
        }
        // In dictionary mode every entry is used by some value, so the entries' extremes are the column's.
        ReadOnlySpan<byte> min = Entry(0), max = min;
        for (var i = 1; i < _ends.Count; i++)
        {
            var value = Entry(i);
            if (value.SequenceCompareTo(min) < 0)
            {
                min = value;
            }
            else if (value.SequenceCompareTo(max) > 0)
            {
                max = value;
            }
        }
        if (min.Length <= options.StatisticsMaxValueBytes && max.Length <= options.StatisticsMaxValueBytes)
        {
            stats.MinValue = min.ToArray();
            stats.MaxValue = max.ToArray();
        }
        return stats;
    }

    public override void Reset()
    {
        base.Reset();
        _lookup.Clear();
        _indices.Clear();
        _bytes.Clear();
        _ends.Clear();
        _dictionaryMode = _options.Dictionary;
    }

    private ReadOnlySpan<byte> Entry(int i)
    {
        var start = i == 0 ? 0 : _ends.Span[i - 1];
        return _bytes.Span[start.._ends.Span[i]];
    }

    private void Append(string value)
    {
        var span = _bytes.Reserve(Encoding.UTF8.GetMaxByteCount(value.Length));
        _bytes.Advance(Encoding.UTF8.GetBytes(value, span));
        _ends.Add(_bytes.Count);
    }

    private void WritePlain(int from, int to, ArrayBufferWriter<byte> output)
    {
        for (var i = from; i < to; i++)
        {
            var value = Entry(i);
            var span = output.GetSpan(4 + value.Length);
            BinaryPrimitives.WriteInt32LittleEndian(span, value.Length);
            value.CopyTo(span[4..]);
            output.Advance(4 + value.Length);
        }
    }

    private void FallBackToPlain()
    {
        var dictionaryBytes = _bytes.Span.ToArray();
        var dictionaryEnds = _ends.Span.ToArray();
        _bytes.Clear();
        _ends.Clear();
        foreach (var index in _indices.Span)
        {
            var start = index == 0 ? 0 : dictionaryEnds[index - 1];
            var value = dictionaryBytes.AsSpan(start, dictionaryEnds[index] - start);
            value.CopyTo(_bytes.Reserve(value.Length));
            _bytes.Advance(value.Length);
            _ends.Add(_bytes.Count);
        }
        _indices.Clear();
        _lookup.Clear();
        _dictionaryMode = false;
    }
}
