using System.Buffers;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Unsigned LEB128 varints: the integers of the Thrift compact protocol and the run headers of the RLE/bit-packed
/// hybrid encoding are both written this way.
/// </summary>
internal static class Uleb128
{
    public static void Write(ulong value, ArrayBufferWriter<byte> output)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        output.Advance(i);
    }

    /// <param name="what">Names the data in the error when the varint is cut off or longer than 64 bits.</param>
    public static ulong Read(ReadOnlySpan<byte> input, ref int position, string what)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= input.Length)
                throw new InvalidDataException($"{what} ends early.");
            var b = input[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
        throw new InvalidDataException($"{what} is too long.");
    }
}
