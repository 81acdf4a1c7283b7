namespace WaferMonitor.Archiver.Parquet;

// The subset of parquet.thrift (apache/parquet-format) this writer emits and this reader understands.
// Field ids are the ones in parquet.thrift; fields not listed here are skipped on read.

internal enum PhysicalType
{
    Boolean = 0,
    Int32 = 1,
    Int64 = 2,
    Int96 = 3,
    Float = 4,
    Double = 5,
    ByteArray = 6,
    FixedLenByteArray = 7,
}

internal enum ConvertedType
{
    Utf8 = 0,
    TimestampMicros = 10,
    Int32 = 17,
    Int64 = 18,
    Json = 19,
}

internal enum Repetition
{
    Required = 0,
    Optional = 1,
    Repeated = 2,
}

internal enum LogicalKind
{
    None,
    String,
    Json,
    Uuid,
    Timestamp,
    Integer,
    Other,
}

internal enum ParquetEncoding
{
    Plain = 0,
    PlainDictionary = 2,
    Rle = 3,
    RleDictionary = 8,
}

internal enum Codec
{
    Uncompressed = 0,
    Snappy = 1,
    Gzip = 2,
}

internal enum PageType
{
    DataPage = 0,
    IndexPage = 1,
    DictionaryPage = 2,
    DataPageV2 = 3,
}

internal enum TimeUnit
{
    Millis = 1,
    Micros = 2,
    Nanos = 3,
}

internal sealed class SchemaElement
{
    public PhysicalType? Type { get; set; }
    public int? TypeLength { get; set; }
    public Repetition? RepetitionType { get; set; }
    public string Name { get; set; } = "";
    public int? NumChildren { get; set; }
    public int? ConvertedType { get; set; }
    public LogicalKind Logical { get; set; }
    public TimeUnit? LogicalTimeUnit { get; set; }

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        if (Type is { } type)
        {
            w.FieldI32(1, (int)type);
        }
        if (TypeLength is { } length)
        {
            w.FieldI32(2, length);
        }
        if (RepetitionType is { } repetition)
        {
            w.FieldI32(3, (int)repetition);
        }
        w.FieldString(4, Name);
        if (NumChildren is { } children)
        {
            w.FieldI32(5, children);
        }
        if (ConvertedType is { } converted)
        {
            w.FieldI32(6, converted);
        }
        if (Logical != LogicalKind.None)
        {
            w.FieldStructBegin(10);
            switch (Logical)
            {
                case LogicalKind.String:
                    w.FieldEmptyStruct(1);
                    break;
                case LogicalKind.Timestamp:
                    w.FieldStructBegin(8);
                    w.FieldBool(1, true);
                    w.FieldStructBegin(2);
                    w.FieldEmptyStruct((short)TimeUnit.Micros);
                    w.EndStruct();
                    w.EndStruct();
                    break;
                case LogicalKind.Json:
                    w.FieldEmptyStruct(12);
                    break;
                case LogicalKind.Uuid:
                    w.FieldEmptyStruct(14);
                    break;
                default:
                    throw new InvalidOperationException($"The writer does not emit logical type {Logical}.");
            }
            w.EndStruct();
        }
        w.EndStruct();
    }

    public static SchemaElement Read(ThriftCompactReader r)
    {
        var e = new SchemaElement();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: e.Type = (PhysicalType)r.I32(); break;
                case 2: e.TypeLength = r.I32(); break;
                case 3: e.RepetitionType = (Repetition)r.I32(); break;
                case 4: e.Name = r.String(); break;
                case 5: e.NumChildren = r.I32(); break;
                case 6: e.ConvertedType = r.I32(); break;
                case 10: ReadLogicalType(r, e); break;
                default: r.Skip(type); break;
            }
        }
        return e;
    }

    private static void ReadLogicalType(ThriftCompactReader r, SchemaElement e)
    {
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    e.Logical = LogicalKind.String;
                    r.Skip(type);
                    break;
                case 8:
                    e.Logical = LogicalKind.Timestamp;
                    r.BeginStruct();
                    while (r.NextField(out var tsId, out var tsType))
                    {
                        if (tsId == 2)
                        {
                            r.BeginStruct();
                            while (r.NextField(out var unitId, out var unitType))
                            {
                                e.LogicalTimeUnit = (TimeUnit)unitId;
                                r.Skip(unitType);
                            }
                        }
                        else
                        {
                            r.Skip(tsType);
                        }
                    }
                    break;
                case 10:
                    e.Logical = LogicalKind.Integer;
                    r.Skip(type);
                    break;
                case 12:
                    e.Logical = LogicalKind.Json;
                    r.Skip(type);
                    break;
                case 14:
                    e.Logical = LogicalKind.Uuid;
                    r.Skip(type);
                    break;
                default:
                    e.Logical = LogicalKind.Other;
                    r.Skip(type);
                    break;
            }
        }
    }
}

internal sealed class Statistics
{
    public byte[]? Max { get; set; }
    public byte[]? Min { get; set; }
    public long? NullCount { get; set; }
    public byte[]? MaxValue { get; set; }
    public byte[]? MinValue { get; set; }
    public long? NanCount { get; set; }

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        if (Max is not null)
        {
            w.FieldBinary(1, Max);
        }
        if (Min is not null)
        {
            w.FieldBinary(2, Min);
        }
        if (NullCount is { } nulls)
        {
            w.FieldI64(3, nulls);
        }
        if (MaxValue is not null)
        {
            w.FieldBinary(5, MaxValue);
        }
        if (MinValue is not null)
        {
            w.FieldBinary(6, MinValue);
        }
        if (NanCount is { } nans)
        {
            w.FieldI64(9, nans);
        }
        w.EndStruct();
    }

    public static Statistics Read(ThriftCompactReader r)
    {
        var s = new Statistics();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: s.Max = r.Binary(); break;
                case 2: s.Min = r.Binary(); break;
                case 3: s.NullCount = r.I64(); break;
                case 5: s.MaxValue = r.Binary(); break;
                case 6: s.MinValue = r.Binary(); break;
                case 9: s.NanCount = r.I64(); break;
                default: r.Skip(type); break;
            }
        }
        return s;
    }
}

internal sealed class ColumnMetaData
{
    public PhysicalType Type { get; set; }
    public List<ParquetEncoding> Encodings { get; set; } = [];
    public List<string> PathInSchema { get; set; } = [];
    public Codec Codec { get; set; }
    public long NumValues { get; set; }
    public long TotalUncompressedSize { get; set; }
    public long TotalCompressedSize { get; set; }
    public long DataPageOffset { get; set; }
    public long? DictionaryPageOffset { get; set; }
    public Statistics? Statistics { get; set; }

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        w.FieldI32(1, (int)Type);
        w.FieldListBegin(2, CompactType.I32, Encodings.Count);
        foreach (var encoding in Encodings)
        {
            w.I32((int)encoding);
        }
        w.FieldListBegin(3, CompactType.Binary, PathInSchema.Count);
        foreach (var part in PathInSchema)
        {
            w.String(part);
        }
        w.FieldI32(4, (int)Codec);
        w.FieldI64(5, NumValues);
        w.FieldI64(6, TotalUncompressedSize);
        w.FieldI64(7, TotalCompressedSize);
        w.FieldI64(9, DataPageOffset);
        if (DictionaryPageOffset is { } dictionaryOffset)
        {
            w.FieldI64(11, dictionaryOffset);
        }
        if (Statistics is not null)
        {
            w.FieldStruct(12);
            Statistics.Write(w);
        }
        w.EndStruct();
    }

    public static ColumnMetaData Read(ThriftCompactReader r)
    {
        var m = new ColumnMetaData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: m.Type = (PhysicalType)r.I32(); break;
                case 2:
                    var (_, encodingCount) = r.ListHeader();
                    for (var i = 0; i < encodingCount; i++)
                    {
                        m.Encodings.Add((ParquetEncoding)r.I32());
                    }
                    break;
                case 3:
                    var (_, pathCount) = r.ListHeader();
                    for (var i = 0; i < pathCount; i++)
                    {
                        m.PathInSchema.Add(r.String());
                    }
                    break;
                case 4: m.Codec = (Codec)r.I32(); break;
                case 5: m.NumValues = r.I64(); break;
                case 6: m.TotalUncompressedSize = r.I64(); break;
                case 7: m.TotalCompressedSize = r.I64(); break;
                case 9: m.DataPageOffset = r.I64(); break;
                case 11: m.DictionaryPageOffset = r.I64(); break;
                case 12: m.Statistics = Statistics.Read(r); break;
                default: r.Skip(type); break;
            }
        }
        return m;
    }
}

internal sealed class RowGroup
{
    public List<ColumnMetaData> Columns { get; set; } = [];
    public long TotalByteSize { get; set; }
    public long NumRows { get; set; }
    public long FileOffset { get; set; }
    public long TotalCompressedSize { get; set; }
    public short Ordinal { get; set; }

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        w.FieldListBegin(1, CompactType.Struct, Columns.Count);
        foreach (var column in Columns)
        {
            // ColumnChunk: file_offset is deprecated and must be 0 when no metadata lives outside the footer.
            w.BeginStruct();
            w.FieldI64(2, 0);
            w.FieldStruct(3);
            column.Write(w);
            w.EndStruct();
        }
        w.FieldI64(2, TotalByteSize);
        w.FieldI64(3, NumRows);
        w.FieldI64(5, FileOffset);
        w.FieldI64(6, TotalCompressedSize);
        w.FieldI32(7, Ordinal);
        w.EndStruct();
    }

    public static RowGroup Read(ThriftCompactReader r)
    {
        var g = new RowGroup();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1:
                    var (_, count) = r.ListHeader();
                    for (var i = 0; i < count; i++)
                    {
                        g.Columns.Add(ReadColumnChunk(r));
                    }
                    break;
                case 2: g.TotalByteSize = r.I64(); break;
                case 3: g.NumRows = r.I64(); break;
                default: r.Skip(type); break;
            }
        }
        return g;
    }

    private static ColumnMetaData ReadColumnChunk(ThriftCompactReader r)
    {
        ColumnMetaData? metaData = null;
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            if (id == 3)
            {
                metaData = ColumnMetaData.Read(r);
            }
            else if (id == 1)
            {
                throw new NotSupportedException("Column chunks stored in another file are not supported.");
            }
            else
            {
                r.Skip(type);
            }
        }
        return metaData ?? throw new InvalidDataException("A column chunk has no metadata.");
    }
}

internal sealed class FileMetaData
{
    public int Version { get; set; } = 1;
    public List<SchemaElement> Schema { get; set; } = [];
    public long NumRows { get; set; }
    public List<RowGroup> RowGroups { get; set; } = [];
    public string? CreatedBy { get; set; }

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        w.FieldI32(1, Version);
        w.FieldListBegin(2, CompactType.Struct, Schema.Count);
        foreach (var element in Schema)
        {
            element.Write(w);
        }
        w.FieldI64(3, NumRows);
        w.FieldListBegin(4, CompactType.Struct, RowGroups.Count);
        foreach (var group in RowGroups)
        {
            group.Write(w);
        }
        if (CreatedBy is not null)
        {
            w.FieldString(6, CreatedBy);
        }
        // Statistics min_value/max_value are only defined when column_orders says which order they follow.
        var leafCount = Schema.Count - 1;
        w.FieldListBegin(7, CompactType.Struct, leafCount);
        for (var i = 0; i < leafCount; i++)
        {
            w.BeginStruct();
            w.FieldEmptyStruct(1);
            w.EndStruct();
        }
        w.EndStruct();
    }

    public static FileMetaData Read(ThriftCompactReader r)
    {
        var m = new FileMetaData();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: m.Version = r.I32(); break;
                case 2:
                    var (_, schemaCount) = r.ListHeader();
                    for (var i = 0; i < schemaCount; i++)
                    {
                        m.Schema.Add(SchemaElement.Read(r));
                    }
                    break;
                case 3: m.NumRows = r.I64(); break;
                case 4:
                    var (_, groupCount) = r.ListHeader();
                    for (var i = 0; i < groupCount; i++)
                    {
                        m.RowGroups.Add(RowGroup.Read(r));
                    }
                    break;
                case 6: m.CreatedBy = r.String(); break;
                default: r.Skip(type); break;
            }
        }
        return m;
    }
}

internal sealed class PageHeader
{
    public PageType Type { get; set; }
    public int UncompressedPageSize { get; set; }
    public int CompressedPageSize { get; set; }

    /// <summary>Values in the page including nulls (data pages) or dictionary entries (dictionary pages).</summary>
    public int NumValues { get; set; }

    public ParquetEncoding Encoding { get; set; }
    public ParquetEncoding DefinitionLevelEncoding { get; set; } = ParquetEncoding.Rle;

    // Only in DATA_PAGE_V2: the levels precede the (possibly compressed) values uncompressed.
    public int DefinitionLevelsByteLength { get; set; }
    public int RepetitionLevelsByteLength { get; set; }
    public bool IsCompressed { get; set; } = true;

    public void Write(ThriftCompactWriter w)
    {
        w.BeginStruct();
        w.FieldI32(1, (int)Type);
        w.FieldI32(2, UncompressedPageSize);
        w.FieldI32(3, CompressedPageSize);
        if (Type == PageType.DataPage)
        {
            w.FieldStructBegin(5);
            w.FieldI32(1, NumValues);
            w.FieldI32(2, (int)Encoding);
            w.FieldI32(3, (int)DefinitionLevelEncoding);
            w.FieldI32(4, (int)ParquetEncoding.Rle);
            w.EndStruct();
        }
        else if (Type == PageType.DictionaryPage)
        {
            w.FieldStructBegin(7);
            w.FieldI32(1, NumValues);
            w.FieldI32(2, (int)Encoding);
            w.EndStruct();
        }
        else
        {
            throw new InvalidOperationException($"The writer does not emit {Type} pages.");
        }
        w.EndStruct();
    }

    public static PageHeader Read(ThriftCompactReader r)
    {
        var h = new PageHeader();
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (id)
            {
                case 1: h.Type = (PageType)r.I32(); break;
                case 2: h.UncompressedPageSize = r.I32(); break;
                case 3: h.CompressedPageSize = r.I32(); break;
                case 5 or 7 or 8: ReadTypeHeader(r, h, id); break;
                default: r.Skip(type); break;
            }
        }
        return h;
    }

    private static void ReadTypeHeader(ThriftCompactReader r, PageHeader h, short headerId)
    {
        r.BeginStruct();
        while (r.NextField(out var id, out var type))
        {
            switch (headerId, id)
            {
                case (5 or 7 or 8, 1): h.NumValues = r.I32(); break;
                case (5 or 7, 2): h.Encoding = (ParquetEncoding)r.I32(); break;
                case (5, 3): h.DefinitionLevelEncoding = (ParquetEncoding)r.I32(); break;
                case (8, 4): h.Encoding = (ParquetEncoding)r.I32(); break;
                case (8, 5): h.DefinitionLevelsByteLength = r.I32(); break;
                case (8, 6): h.RepetitionLevelsByteLength = r.I32(); break;
                case (8, 7): h.IsCompressed = ThriftCompactReader.FieldBool(type); break;
                default: r.Skip(type); break;
            }
        }
    }
}
