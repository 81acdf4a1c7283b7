using System.Runtime.InteropServices;
using ParquetSharp;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>One column's values for the row group being filled, handed to the Parquet library when the group closes.</summary>
internal abstract class ColumnBuffer(ArchiveColumn column)
{
    public ArchiveColumn Column { get; } = column;

    public abstract int Count { get; }

    /// <summary>A rough size of the buffered values, to close a row group before memory runs away.</summary>
    public abstract long EstimatedBytes { get; }

    public abstract void WriteTo(ColumnWriter writer);

    public abstract void Clear();

    public static ColumnBuffer Create(ArchiveColumn column) => (column.Type, column.Nullable) switch
    {
        (ArchiveColumnType.Int32, false) => new RequiredBuffer<int>(column, 4),
        (ArchiveColumnType.Int32, true) => new NullableBuffer<int>(column, 4),
        (ArchiveColumnType.Int64, false) => new RequiredBuffer<long>(column, 8),
        (ArchiveColumnType.Int64, true) => new NullableBuffer<long>(column, 8),
        (ArchiveColumnType.Double, false) => new RequiredBuffer<double>(column, 8),
        (ArchiveColumnType.Double, true) => new NullableBuffer<double>(column, 8),
        (ArchiveColumnType.Boolean, false) => new RequiredBuffer<bool>(column, 1),
        (ArchiveColumnType.Boolean, true) => new NullableBuffer<bool>(column, 1),
        (ArchiveColumnType.Uuid, false) => new RequiredBuffer<Guid>(column, 16),
        (ArchiveColumnType.Uuid, true) => new NullableBuffer<Guid>(column, 16),
        (ArchiveColumnType.Timestamp, false) => new RequiredBuffer<DateTime>(column, 8),
        (ArchiveColumnType.Timestamp, true) => new NullableBuffer<DateTime>(column, 8),
        (ArchiveColumnType.String or ArchiveColumnType.Json, _) => new StringBuffer(column),
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };
}

internal sealed class RequiredBuffer<T>(ArchiveColumn column, int valueBytes) : ColumnBuffer(column) where T : struct
{
    private readonly List<T> _values = [];

    public override int Count => _values.Count;

    public override long EstimatedBytes => (long)_values.Count * valueBytes;

    public void Add(T value) => _values.Add(value);

    public override void WriteTo(ColumnWriter writer)
    {
        using var logical = writer.LogicalWriter<T>();
        logical.WriteBatch(CollectionsMarshal.AsSpan(_values));
    }

    public override void Clear() => _values.Clear();
}

internal sealed class NullableBuffer<T>(ArchiveColumn column, int valueBytes) : ColumnBuffer(column) where T : struct
{
    private readonly List<T?> _values = [];

    public override int Count => _values.Count;

    public override long EstimatedBytes => (long)_values.Count * valueBytes;

    public void Add(T? value) => _values.Add(value);

    public override void WriteTo(ColumnWriter writer)
    {
        using var logical = writer.LogicalWriter<T?>();
        logical.WriteBatch(CollectionsMarshal.AsSpan(_values));
    }

    public override void Clear() => _values.Clear();
}

/// <summary>STRING and JSON columns; a null in a required column is refused when it is added, not when the group is written.</summary>
internal sealed class StringBuffer(ArchiveColumn column) : ColumnBuffer(column)
{
    private readonly List<string?> _values = [];
    private long _chars;

    public override int Count => _values.Count;

    public override long EstimatedBytes => _chars + 4L * _values.Count;

    public void Add(string? value)
    {
        if (value is null && !Column.Nullable)
        {
            throw new ArgumentException($"Column {Column.Name} is required but the row has null.", nameof(value));
        }
        _values.Add(value);
        _chars += value?.Length ?? 0;
    }

    public override void WriteTo(ColumnWriter writer)
    {
        using var logical = writer.LogicalWriter<string>();
        logical.WriteBatch(CollectionsMarshal.AsSpan(_values)!);
    }

    public override void Clear()
    {
        _values.Clear();
        _chars = 0;
    }
}
