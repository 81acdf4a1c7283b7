using ParquetSharp;
using ParquetSharp.Schema;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>How archive columns map to Parquet's physical and logical types, in both directions.</summary>
internal static class ParquetSchemaMapping
{
    public static GroupNode ToSchema(IReadOnlyList<ArchiveColumn> columns) =>
        new("schema", Repetition.Required, columns.Select(ToNode).ToArray());

    private static Node ToNode(ArchiveColumn column)
    {
        var repetition = column.Nullable ? Repetition.Optional : Repetition.Required;
        return column.Type switch
        {
            ArchiveColumnType.Int32 => new PrimitiveNode(column.Name, repetition, LogicalType.None(), PhysicalType.Int32),
            ArchiveColumnType.Int64 => new PrimitiveNode(column.Name, repetition, LogicalType.None(), PhysicalType.Int64),
            ArchiveColumnType.Double => new PrimitiveNode(column.Name, repetition, LogicalType.None(), PhysicalType.Double),
            ArchiveColumnType.Boolean => new PrimitiveNode(column.Name, repetition, LogicalType.None(), PhysicalType.Boolean),
            ArchiveColumnType.String => new PrimitiveNode(column.Name, repetition, LogicalType.String(), PhysicalType.ByteArray),
            ArchiveColumnType.Json => new PrimitiveNode(column.Name, repetition, LogicalType.Json(), PhysicalType.ByteArray),
            ArchiveColumnType.Uuid => new PrimitiveNode(column.Name, repetition, LogicalType.Uuid(), PhysicalType.FixedLenByteArray, 16),
            ArchiveColumnType.Timestamp => new PrimitiveNode(column.Name, repetition, LogicalType.Timestamp(true, TimeUnit.Micros), PhysicalType.Int64),
            _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
        };
    }

    /// <summary>
    /// The archive column a file's column reads as, and for timestamps how many microseconds one stored unit is
    /// (1 for MICROS, 1000 for MILLIS). Other types and nested columns fail naming the column.
    /// </summary>
    public static (ArchiveColumn Column, long MicrosPerUnit) FromDescriptor(ColumnDescriptor descriptor)
    {
        using var path = descriptor.Path;
        if (descriptor.MaxRepetitionLevel > 0 || path.ToDotVector().Length > 1)
        {
            throw new NotSupportedException($"Column {path.ToDotString()}: nested and repeated columns are not supported.");
        }
        using var logical = descriptor.LogicalType;
        var nullable = descriptor.MaxDefinitionLevel > 0;
        (ArchiveColumnType Type, long MicrosPerUnit)? mapped = (descriptor.PhysicalType, logical) switch
        {
            (PhysicalType.Boolean, NoneLogicalType) => (ArchiveColumnType.Boolean, 0),
            (PhysicalType.Int32, NoneLogicalType or IntLogicalType { BitWidth: 32, IsSigned: true }) => (ArchiveColumnType.Int32, 0),
            (PhysicalType.Int64, NoneLogicalType or IntLogicalType { BitWidth: 64, IsSigned: true }) => (ArchiveColumnType.Int64, 0),
            (PhysicalType.Int64, TimestampLogicalType { TimeUnit: TimeUnit.Micros }) => (ArchiveColumnType.Timestamp, 1),
            (PhysicalType.Int64, TimestampLogicalType { TimeUnit: TimeUnit.Millis }) => (ArchiveColumnType.Timestamp, 1000),
            (PhysicalType.Double, NoneLogicalType) => (ArchiveColumnType.Double, 0),
            (PhysicalType.ByteArray, StringLogicalType) => (ArchiveColumnType.String, 0),
            (PhysicalType.ByteArray, JsonLogicalType) => (ArchiveColumnType.Json, 0),
            (PhysicalType.FixedLenByteArray, UuidLogicalType) => (ArchiveColumnType.Uuid, 0),
            _ => null,
        };
        if (mapped is not { } m)
        {
            throw new NotSupportedException(
                $"Column {descriptor.Name}: physical type {descriptor.PhysicalType} with logical type {logical} is not supported.");
        }
        return (new ArchiveColumn(descriptor.Name, m.Type, nullable), m.MicrosPerUnit);
    }
}
