using System.Buffers;
using System.Text;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>Type nibbles of the Thrift compact protocol (the subset Parquet metadata uses, plus what skipping needs).</summary>
internal enum CompactType : byte
{
    Stop = 0,
    BoolTrue = 1,
    BoolFalse = 2,
    Byte = 3,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    Double = 7,
    Binary = 8,
    List = 9,
    Set = 10,
    Map = 11,
    Struct = 12,
}

/// <summary>Thrift compact protocol encoder, only what the Parquet footer and page headers need.</summary>
internal sealed class ThriftCompactWriter(ArrayBufferWriter<byte> output)
{
    private readonly Stack<short> _enclosingFieldIds = new();
    private short _lastFieldId;

    public void BeginStruct()
    {
        _enclosingFieldIds.Push(_lastFieldId);
        _lastFieldId = 0;
    }

    public void EndStruct()
    {
        WriteByte((byte)CompactType.Stop);
        _lastFieldId = _enclosingFieldIds.Pop();
    }

    public void FieldI32(short id, int value)
    {
        FieldHeader(id, CompactType.I32);
        I32(value);
    }

    public void FieldI64(short id, long value)
    {
        FieldHeader(id, CompactType.I64);
        I64(value);
    }

    public void FieldBool(short id, bool value) => FieldHeader(id, value ? CompactType.BoolTrue : CompactType.BoolFalse);

    public void FieldBinary(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, CompactType.Binary);
        Binary(value);
    }

    public void FieldString(short id, string value)
    {
        FieldHeader(id, CompactType.Binary);
        String(value);
    }

    /// <summary>A struct field whose body the caller writes with BeginStruct/EndStruct.</summary>
    public void FieldStruct(short id) => FieldHeader(id, CompactType.Struct);

    public void FieldStructBegin(short id)
    {
        FieldStruct(id);
        BeginStruct();
    }

    /// <summary>An empty struct as a field: how Parquet spells the members of its logical-type unions.</summary>
    public void FieldEmptyStruct(short id)
    {
        FieldStructBegin(id);
        EndStruct();
    }

    public void FieldListBegin(short id, CompactType elementType, int count)
    {
        FieldHeader(id, CompactType.List);
        if (count < 15)
        {
            WriteByte((byte)((count << 4) | (byte)elementType));
        }
        else
        {
            WriteByte((byte)(0xF0 | (byte)elementType));
            Varint((uint)count);
        }
    }

    public void I32(int value) => Varint((uint)((value << 1) ^ (value >> 31)));

    public void I64(long value) => Varint((ulong)((value << 1) ^ (value >> 63)));

    public void Binary(ReadOnlySpan<byte> value)
    {
        Varint((uint)value.Length);
        output.Write(value);
    }

    public void String(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Varint((uint)length);
        var span = output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    private void FieldHeader(short id, CompactType type)
    {
        var delta = id - _lastFieldId;
        if (delta is > 0 and <= 15)
        {
            WriteByte((byte)((delta << 4) | (byte)type));
        }
        else
        {
            WriteByte((byte)type);
            I32(id);
        }
        _lastFieldId = id;
    }

    private void WriteByte(byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private void Varint(ulong value) => Uleb128.Write(value, output);
}

/// <summary>Thrift compact protocol decoder that skips every field it is not asked about.</summary>
internal sealed class ThriftCompactReader(ReadOnlyMemory<byte> input)
{
    private readonly Stack<short> _enclosingFieldIds = new();
    private short _lastFieldId;

    public int Position { get; private set; }

    public ThriftCompactReader(ReadOnlyMemory<byte> input, int position) : this(input) => Position = position;

    public void BeginStruct()
    {
        _enclosingFieldIds.Push(_lastFieldId);
        _lastFieldId = 0;
    }

    public void EndStruct() => _lastFieldId = _enclosingFieldIds.Pop();

    /// <summary>Reads the next field header; false at the struct's stop byte (the struct is then closed).</summary>
    public bool NextField(out short id, out CompactType type)
    {
        var header = ReadByte();
        type = (CompactType)(header & 0x0F);
        if (type == CompactType.Stop)
        {
            id = 0;
            EndStruct();
            return false;
        }
        var delta = header >> 4;
        id = delta == 0 ? (short)I32() : (short)(_lastFieldId + delta);
        _lastFieldId = id;
        return true;
    }

    public static bool FieldBool(CompactType type) => type == CompactType.BoolTrue;

    public int I32() => (int)ZigZag(Varint());

    public long I64() => ZigZag(Varint());

    public byte[] Binary() => Take(checked((int)Varint())).ToArray();

    public string String() => Encoding.UTF8.GetString(Take(checked((int)Varint())));

    public (CompactType ElementType, int Count) ListHeader()
    {
        var header = ReadByte();
        var count = header >> 4;
        return ((CompactType)(header & 0x0F), count == 15 ? checked((int)Varint()) : count);
    }

    public void Skip(CompactType type)
    {
        switch (type)
        {
            case CompactType.BoolTrue or CompactType.BoolFalse:
                break;
            case CompactType.Byte:
                Position++;
                break;
            case CompactType.I16 or CompactType.I32 or CompactType.I64:
                Varint();
                break;
            case CompactType.Double:
                Position += 8;
                break;
            case CompactType.Binary:
                Position += checked((int)Varint());
                break;
            case CompactType.List or CompactType.Set:
                var (elementType, count) = ListHeader();
                for (var i = 0; i < count; i++)
                {
                    SkipElement(elementType);
                }
                break;
            case CompactType.Map:
                var size = checked((int)Varint());
                if (size > 0)
                {
                    var kinds = ReadByte();
                    for (var i = 0; i < size; i++)
                    {
                        SkipElement((CompactType)(kinds >> 4));
                        SkipElement((CompactType)(kinds & 0x0F));
                    }
                }
                break;
            case CompactType.Struct:
                BeginStruct();
                while (NextField(out _, out var fieldType))
                {
                    Skip(fieldType);
                }
                break;
            default:
                throw new InvalidDataException($"Unknown Thrift compact type {(byte)type} at byte {Position}.");
        }
    }

    private void SkipElement(CompactType type)
    {
        // Inside collections a bool is a whole byte, unlike in a field header.
        if (type is CompactType.BoolTrue or CompactType.BoolFalse)
        {
            Position++;
        }
        else
        {
            Skip(type);
        }
    }

    private byte ReadByte()
    {
        if (Position >= input.Length)
        {
            throw new InvalidDataException("Thrift metadata ends early.");
        }
        return input.Span[Position++];
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || Position + length > input.Length)
        {
            throw new InvalidDataException("Thrift metadata ends early.");
        }
        var span = input.Span.Slice(Position, length);
        Position += length;
        return span;
    }

    private ulong Varint()
    {
        var position = Position;
        var value = Uleb128.Read(input.Span, ref position, "Thrift metadata");
        Position = position;
        return value;
    }

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
