using ParquetSharp;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Reads flat Parquet files through ParquetSharp into <see cref="ArchiveColumnValues"/>: the archive's own files,
/// those of the hand-written codec it replaced, and what common writers (DuckDB, Arrow) emit for these types.
/// </summary>
internal sealed class ParquetFileReader : IDisposable
{
    private readonly ParquetSharp.ParquetFileReader _reader;
    private readonly long[] _microsPerUnit;

    private ParquetFileReader(ParquetSharp.ParquetFileReader reader)
    {
        _reader = reader;
        using var metadata = reader.FileMetaData;
        var columns = Enumerable.Range(0, metadata.NumColumns)
            .Select(i => ParquetSchemaMapping.FromDescriptor(metadata.Schema.Column(i)))
            .ToList();
        Schema = columns.Select(c => c.Column).ToList();
        _microsPerUnit = columns.Select(c => c.MicrosPerUnit).ToArray();
        RowGroupCount = metadata.NumRowGroups;
    }

    public IReadOnlyList<ArchiveColumn> Schema { get; }

    public int RowGroupCount { get; }

    public static ParquetFileReader Open(Stream source)
    {
        if (!source.CanSeek || !source.CanRead)
        {
            throw new ArgumentException("Reading Parquet needs a readable, seekable stream (download to a file or memory first).", nameof(source));
        }
        source.Position = 0;
        var reader = new ParquetSharp.ParquetFileReader(source, leaveOpen: true);
        try
        {
            return new ParquetFileReader(reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public long RowGroupRowCount(int rowGroup)
    {
        using var group = _reader.RowGroup(rowGroup);
        return group.MetaData.NumRows;
    }

    /// <summary>False when the row group's statistics prove no row of the timestamp column can fall in the range.</summary>
    public bool MayOverlap(int rowGroup, int column, ArchiveTimeRange range)
    {
        using var group = _reader.RowGroup(rowGroup);
        using var chunk = group.MetaData.GetColumnChunkMetaData(column);
        using var stats = chunk.IsStatsSet ? chunk.Statistics : null;
        if (stats is null)
        {
            return true;
        }
        if (!stats.HasMinMax)
        {
            // An all-null chunk holds no row of the range; otherwise only reading it can tell.
            return stats.NullCount != group.MetaData.NumRows;
        }
        var scale = _microsPerUnit[column];
        return range.MayOverlap((long)stats.MinUntyped * scale, (long)stats.MaxUntyped * scale);
    }

    public ArchiveColumnValues[] ReadRowGroup(int rowGroup, IReadOnlyList<int> columns)
    {
        using var group = _reader.RowGroup(rowGroup);
        var rows = checked((int)group.MetaData.NumRows);
        var result = new ArchiveColumnValues[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            using var column = group.Column(columns[i]);
            result[i] = Read(column, Schema[columns[i]], rows);
        }
        return result;
    }

    public void Dispose() => _reader.Dispose();

    private static ArchiveColumnValues Read(ColumnReader reader, ArchiveColumn column, int rows) => (column.Type, column.Nullable) switch
    {
        (ArchiveColumnType.Int32, false) => ArchiveColumnValues.Required(column, ReadAll<int>(reader, rows)),
        (ArchiveColumnType.Int32, true) => ArchiveColumnValues.Nullable(column, ReadAll<int?>(reader, rows)),
        (ArchiveColumnType.Int64, false) => ArchiveColumnValues.Required(column, ReadAll<long>(reader, rows)),
        (ArchiveColumnType.Int64, true) => ArchiveColumnValues.Nullable(column, ReadAll<long?>(reader, rows)),
        (ArchiveColumnType.Double, false) => ArchiveColumnValues.Required(column, ReadAll<double>(reader, rows)),
        (ArchiveColumnType.Double, true) => ArchiveColumnValues.Nullable(column, ReadAll<double?>(reader, rows)),
        (ArchiveColumnType.Boolean, false) => ArchiveColumnValues.Required(column, ReadAll<bool>(reader, rows)),
        (ArchiveColumnType.Boolean, true) => ArchiveColumnValues.Nullable(column, ReadAll<bool?>(reader, rows)),
        (ArchiveColumnType.Uuid, false) => ArchiveColumnValues.Required(column, ReadAll<Guid>(reader, rows)),
        (ArchiveColumnType.Uuid, true) => ArchiveColumnValues.Nullable(column, ReadAll<Guid?>(reader, rows)),
        (ArchiveColumnType.Timestamp, false) => ArchiveColumnValues.Required(column, Array.ConvertAll(ReadAll<DateTime>(reader, rows), Timestamps.ToMicros)),
        (ArchiveColumnType.Timestamp, true) => ArchiveColumnValues.Nullable(column,
            Array.ConvertAll(ReadAll<DateTime?>(reader, rows), t => t is { } at ? Timestamps.ToMicros(at) : (long?)null)),
        (ArchiveColumnType.String or ArchiveColumnType.Json, _) => ArchiveColumnValues.Strings(column, ReadAll<string?>(reader, rows)),
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };

    private static T[] ReadAll<T>(ColumnReader reader, int rows)
    {
        using var logical = reader.LogicalReader<T>();
        return logical.ReadAll(rows);
    }
}
