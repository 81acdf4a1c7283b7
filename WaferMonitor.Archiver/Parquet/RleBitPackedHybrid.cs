using System.Buffers;

namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// The RLE / bit-packing hybrid of Encodings.md, used for definition levels and dictionary indices.
/// Runs of at least eight equal values become RLE runs; everything else is bit-packed in groups of eight.
/// </summary>
internal static class RleBitPackedHybrid
{
    private const int MinRleRun = 8;

    public static int BitWidth(int maxValue) => maxValue == 0 ? 0 : 32 - int.LeadingZeroCount(maxValue);

    public static void Encode(ReadOnlySpan<int> values, int bitWidth, ArrayBufferWriter<byte> output)
    {
        var i = 0;
        while (i < values.Length)
        {
            var run = RunLength(values, i);
            if (run >= MinRleRun)
            {
                WriteRle(values[i], run, bitWidth, output);
                i += run;
                continue;
            }
            var start = i;
            do
            {
                i += 8;
            }
            while (i < values.Length && RunLength(values, i, MinRleRun) < MinRleRun);
            WriteBitPacked(values[start..Math.Min(i, values.Length)], bitWidth, output);
        }
    }

    /// <summary>Decodes exactly <paramref name="output"/>.Length values; returns the bytes consumed.</summary>
    public static int Decode(ReadOnlySpan<byte> input, int bitWidth, Span<int> output)
    {
        var position = 0;
        var produced = 0;
        var valueBytes = (bitWidth + 7) / 8;
        while (produced < output.Length)
        {
            var header = Uleb128.Read(input, ref position, "RLE run header");
            if ((header & 1) == 0)
            {
                var count = checked((int)(header >> 1));
                var value = 0;
                for (var b = 0; b < valueBytes; b++)
                {
                    value |= input[position++] << (8 * b);
                }
                var take = Math.Min(count, output.Length - produced);
                output.Slice(produced, take).Fill(value);
                produced += take;
            }
            else
            {
                var count = checked((int)(header >> 1) * 8);
                var byteCount = checked(count * bitWidth / 8);
                var packed = input.Slice(position, Math.Min(byteCount, input.Length - position));
                var take = Math.Min(count, output.Length - produced);
                Unpack(packed, bitWidth, output.Slice(produced, take));
                produced += take;
                position += byteCount;
            }
        }
        return Math.Min(position, input.Length);
    }

    private static int RunLength(ReadOnlySpan<int> values, int start, int limit = int.MaxValue)
    {
        var first = values[start];
        var end = start + 1;
        while (end < values.Length && end - start < limit && values[end] == first)
        {
            end++;
        }
        return end - start;
    }

    private static void WriteRle(int value, int count, int bitWidth, ArrayBufferWriter<byte> output)
    {
        Uleb128.Write((ulong)count << 1, output);
        var valueBytes = (bitWidth + 7) / 8;
        var span = output.GetSpan(valueBytes);
        for (var b = 0; b < valueBytes; b++)
        {
            span[b] = (byte)(value >> (8 * b));
        }
        output.Advance(valueBytes);
    }

    private static void WriteBitPacked(ReadOnlySpan<int> values, int bitWidth, ArrayBufferWriter<byte> output)
    {
        var groups = (values.Length + 7) / 8;
        Uleb128.Write(((ulong)groups << 1) | 1, output);
        var byteCount = groups * bitWidth;
        var span = output.GetSpan(byteCount)[..byteCount];
        span.Clear();
        long bit = 0;
        foreach (var value in values)
        {
            for (var b = 0; b < bitWidth; b++, bit++)
            {
                if (((value >> b) & 1) != 0)
                {
                    span[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
                }
            }
        }
        output.Advance(byteCount);
    }

    private static void Unpack(ReadOnlySpan<byte> packed, int bitWidth, Span<int> output)
    {
        if (bitWidth == 0)
        {
            output.Clear();
            return;
        }
        ulong buffer = 0;
        var bufferedBits = 0;
        var position = 0;
        var mask = bitWidth == 32 ? uint.MaxValue : (1u << bitWidth) - 1;
        for (var i = 0; i < output.Length; i++)
        {
            while (bufferedBits < bitWidth)
            {
                buffer |= (ulong)(position < packed.Length ? packed[position] : 0) << bufferedBits;
                position++;
                bufferedBits += 8;
            }
            output[i] = (int)((uint)buffer & mask);
            buffer >>= bitWidth;
            bufferedBits -= bitWidth;
        }
    }
}
