using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using WaferMonitor.Archiver.Parquet;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Turns rows into expected cells and compares them with what DuckDB (or our reader) reports.</summary>
internal static class ColumnExpectations
{
    /// <summary>The record's values in column order, found by the snake_case ↔ PascalCase naming convention.</summary>
    public static object?[] Cells<TRow>(ArchiveTable<TRow> table, TRow row) =>
        table.Columns.Select(c => Property<TRow>(c.Name).GetValue(row)).ToArray();

    public static string DuckDbType(ArchiveColumnType type) => type switch
    {
        ArchiveColumnType.Int32 => "INTEGER",
        ArchiveColumnType.Int64 => "BIGINT",
        ArchiveColumnType.Double => "DOUBLE",
        ArchiveColumnType.Boolean => "BOOLEAN",
        ArchiveColumnType.String => "VARCHAR",
        ArchiveColumnType.Json => "JSON",
        ArchiveColumnType.Uuid => "UUID",
        ArchiveColumnType.Timestamp => "TIMESTAMP WITH TIME ZONE",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A select list that renders every column so JSON carries it exactly (timestamps as epoch microseconds).</summary>
    public static string SelectList(IEnumerable<ArchiveColumn> columns) => string.Join(", ", columns.Select(c => c.Type switch
    {
        ArchiveColumnType.Timestamp => $"epoch_us(\"{c.Name}\") AS \"{c.Name}\"",
        ArchiveColumnType.Uuid or ArchiveColumnType.Json => $"\"{c.Name}\"::VARCHAR AS \"{c.Name}\"",
        _ => $"\"{c.Name}\"",
    }));

    public static void AssertCell(ArchiveColumn column, object? expected, JsonElement actual, string where)
    {
        if (expected is null)
        {
            Assert.True(actual.ValueKind == JsonValueKind.Null, $"{where}.{column.Name}: expected null, got {actual}");
            return;
        }
        Assert.True(actual.ValueKind != JsonValueKind.Null, $"{where}.{column.Name}: expected {expected}, got null");
        switch (column.Type)
        {
            case ArchiveColumnType.Int32:
                Assert.Equal((int)expected, actual.GetInt32());
                break;
            case ArchiveColumnType.Int64:
                Assert.Equal(((long)expected).ToString(CultureInfo.InvariantCulture), actual.GetString());
                break;
            case ArchiveColumnType.Double:
                var value = actual.ValueKind == JsonValueKind.String
                    ? double.Parse(actual.GetString()!, CultureInfo.InvariantCulture)
                    : actual.GetDouble();
                Assert.True((double)expected == value || (double.IsNaN((double)expected) && double.IsNaN(value)),
                    $"{where}.{column.Name}: expected {expected:R}, got {value:R}");
                break;
            case ArchiveColumnType.Boolean:
                Assert.Equal((bool)expected, actual.GetBoolean());
                break;
            case ArchiveColumnType.String or ArchiveColumnType.Json:
                Assert.True((string)expected == actual.GetString(), $"{where}.{column.Name}: expected «{expected}», got «{actual.GetString()}»");
                break;
            case ArchiveColumnType.Uuid:
                Assert.Equal(((Guid)expected).ToString(), actual.GetString());
                break;
            case ArchiveColumnType.Timestamp:
                Assert.Equal(Timestamps.ToMicros((DateTimeOffset)expected).ToString(CultureInfo.InvariantCulture), actual.GetString());
                break;
        }
    }

    /// <summary>Min and max of the non-null values in the order Parquet's statistics use, rendered as DuckDB renders them.</summary>
    public static (string? Min, string? Max) ExpectedStatistics(ArchiveColumn column, IEnumerable<object?> cells, int maxValueBytes)
    {
        var values = cells.Where(v => v is not null).Select(v => v!).ToList();
        if (values.Count == 0)
        {
            return (null, null);
        }
        switch (column.Type)
        {
            case ArchiveColumnType.String or ArchiveColumnType.Json:
                var ordered = values.Cast<string>().OrderBy(s => Encoding.UTF8.GetBytes(s), ByteOrder.Instance).ToList();
                var (min, max) = (ordered[0], ordered[^1]);
                // Each bound longer than the limit is left out on its own.
                return (Encoding.UTF8.GetByteCount(min) > maxValueBytes ? null : min, Encoding.UTF8.GetByteCount(max) > maxValueBytes ? null : max);
            case ArchiveColumnType.Uuid:
                var guids = values.Cast<Guid>().OrderBy(g => g.ToByteArray(bigEndian: true), ByteOrder.Instance).ToList();
                return (guids[0].ToString(), guids[^1].ToString());
            case ArchiveColumnType.Timestamp:
                var micros = values.Cast<DateTimeOffset>().Select(Timestamps.ToMicros).ToList();
                return (micros.Min().ToString(CultureInfo.InvariantCulture), micros.Max().ToString(CultureInfo.InvariantCulture));
            case ArchiveColumnType.Int64:
                var longs = values.Cast<long>().ToList();
                return (longs.Min().ToString(CultureInfo.InvariantCulture), longs.Max().ToString(CultureInfo.InvariantCulture));
            case ArchiveColumnType.Double:
                var doubles = values.Cast<double>().Where(d => !double.IsNaN(d)).ToList();
                return doubles.Count == 0 ? (null, null) : (doubles.Min().ToString("R", CultureInfo.InvariantCulture), doubles.Max().ToString("R", CultureInfo.InvariantCulture));
            default:
                throw new ArgumentOutOfRangeException(nameof(column));
        }
    }

    private static PropertyInfo Property<TRow>(string column)
    {
        var name = string.Concat(column.Split('_').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
        return typeof(TRow).GetProperty(name) ?? throw new InvalidOperationException($"{typeof(TRow).Name} has no property {name} for column {column}.");
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
