namespace WaferMonitor.Archiver.Parquet;

/// <summary>The decoded values of one column for a run of rows (one row group), by row index.</summary>
public sealed class ArchiveColumnValues
{
    private readonly bool[]? _nulls;

    // int[], long[] (Int64 and Timestamp microseconds), double[], bool[], string?[] (String and Json) or Guid[].
    private readonly Array _values;

    private ArchiveColumnValues(ArchiveColumn column, Array values, bool[]? nulls)
    {
        Column = column;
        Count = values.Length;
        _values = values;
        _nulls = nulls;
    }

    public ArchiveColumn Column { get; }

    public int Count { get; }

    public bool IsNull(int row) => _nulls is not null && _nulls[row];

    public int? GetInt32(int row) => IsNull(row) ? null : Typed<int>(ArchiveColumnType.Int32)[row];

    public long? GetInt64(int row) => IsNull(row) ? null : Typed<long>(ArchiveColumnType.Int64)[row];

    public double? GetDouble(int row) => IsNull(row) ? null : Typed<double>(ArchiveColumnType.Double)[row];

    public bool? GetBoolean(int row) => IsNull(row) ? null : Typed<bool>(ArchiveColumnType.Boolean)[row];

    /// <summary>STRING and JSON columns alike; JSON comes back as its text.</summary>
    public string? GetString(int row) => IsNull(row) ? null : Typed<string?>(ArchiveColumnType.String)[row];

    public Guid? GetUuid(int row) => IsNull(row) ? null : Typed<Guid>(ArchiveColumnType.Uuid)[row];

    public DateTimeOffset? GetTimestamp(int row) => GetTimestampMicros(row) is { } micros ? Timestamps.FromMicros(micros) : null;

    /// <summary>Microseconds since the Unix epoch, as stored.</summary>
    public long? GetTimestampMicros(int row)
    {
        if (Column.Type != ArchiveColumnType.Timestamp)
        {
            throw new InvalidOperationException($"Column {Column.Name} is {Column.Type}, not Timestamp.");
        }
        return IsNull(row) ? null : ((long[])_values)[row];
    }

    /// <summary>Values of a column without nulls (the library hands them over as they are).</summary>
    internal static ArchiveColumnValues Required<T>(ArchiveColumn column, T[] values) => new(column, values, null);

    /// <summary>Values of a nullable column, split into the value array and a null mask.</summary>
    internal static ArchiveColumnValues Nullable<T>(ArchiveColumn column, T?[] values) where T : struct
    {
        var plain = new T[values.Length];
        var nulls = new bool[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value)
            {
                plain[i] = value;
            }
            else
            {
                nulls[i] = true;
            }
        }
        return new(column, plain, nulls);
    }

    internal static ArchiveColumnValues Strings(ArchiveColumn column, string?[] values) =>
        new(column, values, column.Nullable ? Array.ConvertAll(values, v => v is null) : null);

    /// <summary>A new column holding only the given rows, in order.</summary>
    internal ArchiveColumnValues Select(ReadOnlySpan<int> rows)
    {
        var values = Array.CreateInstance(_values.GetType().GetElementType()!, rows.Length);
        bool[]? nulls = _nulls is null ? null : new bool[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            Array.Copy(_values, rows[i], values, i, 1);
            if (nulls is not null)
            {
                nulls[i] = _nulls![rows[i]];
            }
        }
        return new(Column, values, nulls);
    }

    private T[] Typed<T>(ArchiveColumnType expected) =>
        _values as T[] ?? throw new InvalidOperationException($"Column {Column.Name} is {Column.Type}, not {expected}.");
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
