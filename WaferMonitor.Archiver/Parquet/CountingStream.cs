namespace WaferMonitor.Archiver.Parquet;

/// <summary>
/// Passes writes through to a destination and counts them. The Parquet library asks the stream for its position;
/// the count answers that for destinations that cannot seek (network streams, pipes).
/// </summary>
internal sealed class CountingStream(Stream destination) : Stream
{
    public long Count { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Count;

    public override long Position
    {
        get => Count;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        destination.Write(buffer);
        Count += buffer.Length;
    }

    public override void Flush() => destination.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
