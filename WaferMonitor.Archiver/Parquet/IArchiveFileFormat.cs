namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// The archive's file format, the one seam the Archiver depends on; <see cref="ParquetArchiveFormat"/> implements it
/// with ParquetSharp.
/// </summary>
public interface IArchiveFileFormat
{
    /// <summary>File name extension including the dot, e.g. ".parquet".</summary>
    string FileExtension { get; }

    /// <summary>Starts a file on <paramref name="destination"/> (any writable stream; the caller owns it).</summary>
    IArchiveFileWriter<TRow> CreateWriter<TRow>(ArchiveTable<TRow> table, Stream destination);

    /// <summary>
    /// Reads rows back (all of the table's columns, matched by name). With a range, row groups whose statistics
    /// miss it are not read at all and the remaining rows are filtered exactly. <paramref name="source"/> must be seekable.
    /// </summary>
    IAsyncEnumerable<TRow> ReadRowsAsync<TRow>(
        ArchiveTable<TRow> table, Stream source, ArchiveTimeRange? range = null, CancellationToken ct = default);

    /// <summary>Reads only the named columns (all when null), one batch per row group, with the same range semantics.</summary>
    IAsyncEnumerable<ArchiveColumnBatch> ReadColumnsAsync(
        Stream source, IReadOnlyList<string>? columns = null, ArchiveTimeRange? range = null, CancellationToken ct = default);

    /// <summary>The columns a file declares.</summary>
    Task<IReadOnlyList<ArchiveColumn>> ReadSchemaAsync(Stream source, CancellationToken ct = default);
}

/// <summary>
/// Writes the rows of one file. Nothing is a valid file until <see cref="CompleteAsync"/> has returned; dispose it
/// either way (it holds native buffers).
/// </summary>
public interface IArchiveFileWriter<in TRow> : IDisposable
{
    long RowCount { get; }

    /// <summary>Bytes handed to the destination so far (whole row groups, then the footer).</summary>
    long BytesWritten { get; }

    /// <summary>Buffers the row; writes a row group to the stream when one fills up.</summary>
    ValueTask WriteAsync(TRow row, CancellationToken ct = default);

    ValueTask CompleteAsync(CancellationToken ct = default);
}
