namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// One archive table: its columns and how a row maps to them and back. Built once per row type with
/// <see cref="ArchiveTableBuilder{TRow}"/>, so schema and mapping cannot drift apart.
/// </summary>
public sealed class ArchiveTable<TRow>
{
    private readonly Action<TRow, ColumnBuffer>[] _writers;
    private readonly Func<ArchiveRowReader, TRow> _read;

    internal ArchiveTable(
        string name, string? timeColumn, IReadOnlyList<ArchiveColumn> columns,
        Action<TRow, ColumnBuffer>[] writers, Func<ArchiveRowReader, TRow> read)
    {
        Name = name;
        TimeColumn = timeColumn;
        Columns = columns;
        _writers = writers;
        _read = read;
    }

    public string Name { get; }

    /// <summary>The timestamp column archive windows are cut on, if any.</summary>
    public string? TimeColumn { get; }

    public IReadOnlyList<ArchiveColumn> Columns { get; }

    internal void WriteRow(TRow row, ColumnBuffer[] buffers)
    {
        for (var i = 0; i < _writers.Length; i++)
        {
            _writers[i](row, buffers[i]);
        }
    }

    internal TRow ReadRow(ArchiveRowReader reader) => _read(reader);
}

/// <summary>Declares a table's columns in file order, each with the getter that fills it.</summary>
public sealed class ArchiveTableBuilder<TRow>(string name)
{
    private readonly List<ArchiveColumn> _columns = [];
    private readonly List<Action<TRow, ColumnBuffer>> _writers = [];

    public ArchiveTableBuilder<TRow> Int32(string column, Func<TRow, int> get) =>
        Add(column, ArchiveColumnType.Int32, false, (row, b) => ((RequiredBuffer<int>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableInt32(string column, Func<TRow, int?> get) =>
        Add(column, ArchiveColumnType.Int32, true, (row, b) => ((NullableBuffer<int>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> Int64(string column, Func<TRow, long> get) =>
        Add(column, ArchiveColumnType.Int64, false, (row, b) => ((RequiredBuffer<long>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableInt64(string column, Func<TRow, long?> get) =>
        Add(column, ArchiveColumnType.Int64, true, (row, b) => ((NullableBuffer<long>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> Double(string column, Func<TRow, double> get) =>
        Add(column, ArchiveColumnType.Double, false, (row, b) => ((RequiredBuffer<double>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableDouble(string column, Func<TRow, double?> get) =>
        Add(column, ArchiveColumnType.Double, true, (row, b) => ((NullableBuffer<double>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> Boolean(string column, Func<TRow, bool> get) =>
        Add(column, ArchiveColumnType.Boolean, false, (row, b) => ((RequiredBuffer<bool>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableBoolean(string column, Func<TRow, bool?> get) =>
        Add(column, ArchiveColumnType.Boolean, true, (row, b) => ((NullableBuffer<bool>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> String(string column, Func<TRow, string> get) =>
        Add(column, ArchiveColumnType.String, false, (row, b) => ((StringBuffer)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableString(string column, Func<TRow, string?> get) =>
        Add(column, ArchiveColumnType.String, true, (row, b) => ((StringBuffer)b).Add(get(row)));

    /// <summary>A JSON document given as its text; the writer does not parse it.</summary>
    public ArchiveTableBuilder<TRow> Json(string column, Func<TRow, string> get) =>
        Add(column, ArchiveColumnType.Json, false, (row, b) => ((StringBuffer)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableJson(string column, Func<TRow, string?> get) =>
        Add(column, ArchiveColumnType.Json, true, (row, b) => ((StringBuffer)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> Uuid(string column, Func<TRow, Guid> get) =>
        Add(column, ArchiveColumnType.Uuid, false, (row, b) => ((RequiredBuffer<Guid>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> NullableUuid(string column, Func<TRow, Guid?> get) =>
        Add(column, ArchiveColumnType.Uuid, true, (row, b) => ((NullableBuffer<Guid>)b).Add(get(row)));

    public ArchiveTableBuilder<TRow> Timestamp(string column, Func<TRow, DateTimeOffset> get) =>
        Add(column, ArchiveColumnType.Timestamp, false,
            (row, b) => ((RequiredBuffer<DateTime>)b).Add(Timestamps.ToParquet(get(row))));

    public ArchiveTableBuilder<TRow> NullableTimestamp(string column, Func<TRow, DateTimeOffset?> get) =>
        Add(column, ArchiveColumnType.Timestamp, true,
            (row, b) => ((NullableBuffer<DateTime>)b).Add(get(row) is { } at ? Timestamps.ToParquet(at) : null));

    /// <summary>
    /// Finishes the table. <paramref name="read"/> must read the columns in the order they were declared;
    /// the reader checks each name, so a mismatch fails on the first row rather than mixing columns up.
    /// </summary>
    public ArchiveTable<TRow> Build(string? timeColumn, Func<ArchiveRowReader, TRow> read)
    {
        if (timeColumn is not null && !_columns.Any(c => c.Name == timeColumn && c.Type == ArchiveColumnType.Timestamp))
        {
            throw new ArgumentException($"Time column {timeColumn} is not a timestamp column of {name}.", nameof(timeColumn));
        }
        return new ArchiveTable<TRow>(name, timeColumn, _columns.ToArray(), _writers.ToArray(), read);
    }

    private ArchiveTableBuilder<TRow> Add(string column, ArchiveColumnType type, bool nullable, Action<TRow, ColumnBuffer> write)
    {
        if (_columns.Any(c => c.Name == column))
        {
            throw new ArgumentException($"Column {column} is declared twice in {name}.", nameof(column));
        }
        _columns.Add(new ArchiveColumn(column, type, nullable));
        _writers.Add(write);
        return this;
    }
}

/// <summary>Hands a table's read function the current row's values, column by column in declaration order.</summary>
public sealed class ArchiveRowReader
{
    private readonly IReadOnlyList<ArchiveColumnValues> _columns;
    private int _row;
    private int _next;

    internal ArchiveRowReader(IReadOnlyList<ArchiveColumnValues> columns) => _columns = columns;

    internal void MoveTo(int row)
    {
        _row = row;
        _next = 0;
    }

    public int Int32(string column) => Next(column).GetInt32(_row) ?? throw Null(column);

    public int? NullableInt32(string column) => Next(column).GetInt32(_row);

    public long Int64(string column) => Next(column).GetInt64(_row) ?? throw Null(column);

    public long? NullableInt64(string column) => Next(column).GetInt64(_row);

    public double Double(string column) => Next(column).GetDouble(_row) ?? throw Null(column);

    public double? NullableDouble(string column) => Next(column).GetDouble(_row);

    public bool Boolean(string column) => Next(column).GetBoolean(_row) ?? throw Null(column);

    public bool? NullableBoolean(string column) => Next(column).GetBoolean(_row);

    public string String(string column) => Next(column).GetString(_row) ?? throw Null(column);

    public string? NullableString(string column) => Next(column).GetString(_row);

    public string Json(string column) => String(column);

    public string? NullableJson(string column) => NullableString(column);

    public Guid Uuid(string column) => Next(column).GetUuid(_row) ?? throw Null(column);

    public Guid? NullableUuid(string column) => Next(column).GetUuid(_row);

    public DateTimeOffset Timestamp(string column) => Next(column).GetTimestamp(_row) ?? throw Null(column);

    public DateTimeOffset? NullableTimestamp(string column) => Next(column).GetTimestamp(_row);

    private ArchiveColumnValues Next(string column)
    {
        if (_next >= _columns.Count || !string.Equals(_columns[_next].Column.Name, column, StringComparison.Ordinal))
        {
            var expected = _next < _columns.Count ? _columns[_next].Column.Name : "(no more columns)";
            throw new InvalidOperationException(
                $"The table's read function asked for column {column} where {expected} comes next; read columns in declaration order.");
        }
        return _columns[_next++];
    }

    private InvalidDataException Null(string column) => new($"Column {column} is null in row {_row} but the table requires a value.");
}
