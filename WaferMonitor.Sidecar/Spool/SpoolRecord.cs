using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>
/// One spooled event. On disk: <c>[u32 length][u32 crc32c][payload]</c>, the payload being
/// <c>[u8 version][i64 received_at unix ms][u16 traceparent length][traceparent][event JSON]</c>.
/// The CRC covers the payload, so a torn or garbled record is detected on start-up.
/// </summary>
public sealed record SpoolRecord(DateTimeOffset ReceivedAt, string? TraceParent, byte[] EventJson)
{
    public const int HeaderBytes = 8;
    private const byte Version = 1;

    public int EncodedLength => HeaderBytes + PayloadLength;

    private int PayloadLength => 1 + 8 + 2 + Encoding.ASCII.GetByteCount(TraceParent ?? "") + EventJson.Length;

    public void Encode(Span<byte> destination)
    {
        var payload = destination[HeaderBytes..EncodedLength];
        payload[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], ReceivedAt.ToUnixTimeMilliseconds());
        var trace = Encoding.ASCII.GetBytes(TraceParent ?? "");
        BinaryPrimitives.WriteUInt16LittleEndian(payload[9..], (ushort)trace.Length);
        trace.CopyTo(payload[11..]);
        EventJson.CopyTo(payload[(11 + trace.Length)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Crc32C(payload));
    }

    /// <summary>Decodes the payload of a record whose header was already read; null when the checksum does not match.</summary>
    public static SpoolRecord? Decode(ReadOnlySpan<byte> payload, uint expectedCrc)
    {
        if (payload.Length < 11 || Crc32C(payload) != expectedCrc || payload[0] != Version)
            return null;
        var receivedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(payload[1..]));
        var traceLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[9..]);
        if (11 + traceLength > payload.Length)
            return null;
        var trace = traceLength == 0 ? null : Encoding.ASCII.GetString(payload.Slice(11, traceLength));
        return new SpoolRecord(receivedAt, trace, payload[(11 + traceLength)..].ToArray());
    }

    /// <summary>CRC-32C with the CPU's instruction via <see cref="BitOperations"/> (System.IO.Hashing is not obtainable).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }
}
