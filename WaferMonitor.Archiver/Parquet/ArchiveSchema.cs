namespace WaferMonitor.Archiver.Parquet;

/// <summary>The value types an archive column can hold; each maps to one Parquet physical and logical type.</summary>
public enum ArchiveColumnType
{
    /// <summary>INT32.</summary>
    Int32,

    /// <summary>INT64.</summary>
    Int64,

    /// <summary>DOUBLE.</summary>
    Double,

    /// <summary>BOOLEAN.</summary>
    Boolean,

    /// <summary>BYTE_ARRAY, logical STRING (UTF-8).</summary>
    String,

    /// <summary>BYTE_ARRAY, logical JSON (UTF-8 text of one JSON document).</summary>
    Json,

    /// <summary>FIXED_LEN_BYTE_ARRAY(16), logical UUID (RFC 4122 byte order).</summary>
    Uuid,

    /// <summary>INT64, logical TIMESTAMP(MICROS, adjusted to UTC).</summary>
    Timestamp,
}

/// <summary>One flat column of an archive file.</summary>
public sealed record ArchiveColumn(string Name, ArchiveColumnType Type, bool Nullable);

/// <summary>An inclusive-exclusive time window on one timestamp column, used to skip row groups and filter rows.</summary>
public sealed record ArchiveTimeRange(string Column, DateTimeOffset? From, DateTimeOffset? To)
{
    internal bool Contains(long micros) =>
        (From is not { } from || micros >= Timestamps.ToMicros(from))
        && (To is not { } to || micros < Timestamps.ToMicros(to));

    /// <summary>False only when [min, max] provably misses the window.</summary>
    internal bool MayOverlap(long minMicros, long maxMicros) =>
        (From is not { } from || maxMicros >= Timestamps.ToMicros(from))
        && (To is not { } to || minMicros < Timestamps.ToMicros(to));
}

/// <summary>Conversions between <see cref="DateTimeOffset"/> and Parquet's microseconds since the Unix epoch.</summary>
internal static class Timestamps
{
    // Parquet has no tick (100 ns) unit; sub-microsecond digits are truncated toward the past.
    public static long ToMicros(DateTimeOffset value) =>
        FloorDiv(value.UtcTicks - DateTime.UnixEpoch.Ticks, TimeSpan.TicksPerMicrosecond);

    public static long ToMicros(DateTime utc) => FloorDiv(utc.Ticks - DateTime.UnixEpoch.Ticks, TimeSpan.TicksPerMicrosecond);

    /// <summary>The value the library writes: already whole microseconds, so its own conversion cannot round.</summary>
    public static DateTime ToParquet(DateTimeOffset value) =>
        new(DateTime.UnixEpoch.Ticks + ToMicros(value) * TimeSpan.TicksPerMicrosecond, DateTimeKind.Utc);

    public static DateTimeOffset FromMicros(long micros) =>
        new(checked(DateTime.UnixEpoch.Ticks + micros * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    private static long FloorDiv(long a, long b) => a / b - (a % b < 0 ? 1 : 0);
}
