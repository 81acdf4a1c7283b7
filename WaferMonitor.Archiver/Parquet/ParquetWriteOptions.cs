namespace WaferMonitor.Archiver.Parquet;

/// <summary>Page compression codecs the archive can write (and read; files from other writers may use others too).</summary>
public enum ParquetCompression
{
    /// <summary>UNCOMPRESSED.</summary>
    None,

    /// <summary>GZIP (zlib; level 6, as the BCL's <c>Optimal</c>, unless <see cref="ParquetWriteOptions.CompressionLevel"/> says otherwise).</summary>
    Gzip,

    /// <summary>SNAPPY.</summary>
    Snappy,

    /// <summary>ZSTD (level 1 unless <see cref="ParquetWriteOptions.CompressionLevel"/> says otherwise).</summary>
    Zstd,
}

/// <summary>Writer knobs; the defaults suit archive files of a few hundred MB.</summary>
public sealed record ParquetWriteOptions
{
    /// <summary>The archive's default codec, chosen from the figures of <c>bench parquet</c> (docs/benchmarks.md, "Parquet").</summary>
    public const ParquetCompression DefaultCompression = ParquetCompression.Zstd;

    /// <summary>A row group is closed after this many rows...</summary>
    public int RowGroupRows { get; init; } = 128 * 1024;

    /// <summary>...or once its buffered values reach about this many bytes, which bounds the writer's memory.</summary>
    public long RowGroupBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Target uncompressed size of one data page.</summary>
    public int PageBytes { get; init; } = 1024 * 1024;

    public ParquetCompression Compression { get; init; } = DefaultCompression;

    /// <summary>The codec's level; null means 6 for GZIP (the library's own default wrote about 4 times slower here for 1 % fewer bytes) and the library's default otherwise.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Dictionary-encode columns while they stay low-cardinality (the library falls back to PLAIN per chunk).</summary>
    public bool Dictionary { get; init; } = true;

    /// <summary>A column chunk whose dictionary grows past this falls back to PLAIN.</summary>
    public int DictionaryBytes { get; init; } = 1024 * 1024;

    /// <summary>A STRING/JSON minimum or maximum longer than this is left out of the statistics rather than bloating the footer.</summary>
    public int StatisticsMaxValueBytes { get; init; } = 64;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(RowGroupRows, 1, nameof(RowGroupRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(RowGroupBytes, 1, nameof(RowGroupBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(PageBytes, 1, nameof(PageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(DictionaryBytes, 1, nameof(DictionaryBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(StatisticsMaxValueBytes, nameof(StatisticsMaxValueBytes));
    }
}
