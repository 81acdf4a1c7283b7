using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace WaferMonitor.Sidecar.Spool;

public sealed class SpoolFullException(string message) : Exception(message);

/// <summary>Where the forwarder is in the spool: a segment and a byte offset at a record boundary.</summary>
public readonly record struct SpoolPosition(long SegmentId, long Offset);

public sealed record SpoolBatch(IReadOnlyList<SpoolRecord> Records, SpoolPosition End);

public sealed record SpoolStatus(long Events, long Bytes, int Segments, DateTimeOffset? OldestReceivedAt);

/// <summary>
/// A durable FIFO of events in append-only segment files. <see cref="AppendAsync"/> completes only once the records are
/// fsync'd; appends that arrive together share one fsync (group commit). The forwarder reads in order and commits
/// what LocalApi acknowledged; fully committed segments are deleted. A torn tail is cut off on start-up.
/// </summary>
public sealed partial class SegmentSpool : IAsyncDisposable
{
    private const string SegmentExtension = ".seg";
    private const string CheckpointFile = "checkpoint";

    private readonly string directory;
    private readonly SpoolOptions options;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly SortedDictionary<long, long> segmentLengths = [];
    private readonly Channel<AppendRequest> requests = Channel.CreateUnbounded<AppendRequest>(new() { SingleReader = true });
    private readonly Task writer;

    private FileStream active;
    private long activeId;
    private long totalBytes;
    private long pendingEvents;
    private DateTimeOffset? oldestPendingReceivedAt;
    private TaskCompletionSource dataAvailable = NewSignal();

    private SpoolPosition readPosition;
    private FileStream? readStream;
    private long readStreamSegment = -1;

    private SegmentSpool(string directory, SpoolOptions options, ILogger logger, ScanResult scan)
    {
        this.directory = directory;
        this.options = options;
        this.logger = logger;
        foreach (var (id, length) in scan.Segments)
            segmentLengths[id] = length;
        totalBytes = segmentLengths.Values.Sum();
        pendingEvents = scan.PendingEvents;
        readPosition = scan.Start;
        activeId = segmentLengths.Count == 0 ? 1 : segmentLengths.Keys.Max() + 1;
        active = CreateSegment(activeId);
        writer = Task.Run(WriteLoopAsync);
    }

    public static SegmentSpool Open(IOptions<SpoolOptions> options, ILogger<SegmentSpool> logger)
    {
        var directory = Path.GetFullPath(options.Value.Directory);
        Directory.CreateDirectory(directory);
        var scan = Scan(directory, logger);
        return new SegmentSpool(directory, options.Value, logger, scan);
    }

    public string DirectoryPath => directory;

    public SpoolStatus Status
    {
        get
        {
            lock (gate)
                return new SpoolStatus(pendingEvents, totalBytes, segmentLengths.Count, pendingEvents == 0 ? null : oldestPendingReceivedAt);
        }
    }

    public long Capacity => options.MaxBytes;

    /// <summary>Makes the records durable, all or none; throws <see cref="SpoolFullException"/> when they do not fit.</summary>
    public async Task AppendAsync(IReadOnlyList<SpoolRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
            return;
        // Pooled: a batch encodes to hundreds of kilobytes, and a fresh array each time would land on the large object heap.
        var length = records.Sum(r => r.EncodedLength);
        var encoded = ArrayPool<byte>.Shared.Rent(length);
        var offset = 0;
        foreach (var record in records)
        {
            record.Encode(encoded.AsSpan(offset));
            offset += record.EncodedLength;
        }
        var request = new AppendRequest(encoded.AsMemory(0, length), records.Count, records[0].ReceivedAt);
        if (!requests.Writer.TryWrite(request))
        {
            ArrayPool<byte>.Shared.Return(encoded);
            throw new ObjectDisposedException(nameof(SegmentSpool));
        }
        // Not cancellable once queued: the caller must learn whether its records became durable. A caller that gives up
        // leaves the buffer to the write loop (and the garbage collector).
        await request.Completion.Task.WaitAsync(cancellationToken);
        ArrayPool<byte>.Shared.Return(encoded);
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<AppendRequest>();
        while (await requests.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < 4096 && requests.Reader.TryRead(out var request))
                group.Add(request);
            var written = new List<AppendRequest>(group.Count);
            try
            {
                foreach (var request in group)
                {
                    if (Interlocked.Read(ref totalBytes) + request.Bytes.Length > options.MaxBytes)
                    {
                        request.Completion.TrySetException(new SpoolFullException(
                            $"spool holds {Interlocked.Read(ref totalBytes)} of {options.MaxBytes} bytes"));
                        continue;
                    }
                    if (active.Length > 0 && active.Length + request.Bytes.Length > options.SegmentBytes)
                        Rotate();
                    await active.WriteAsync(request.Bytes);
                    written.Add(request);
                    lock (gate)
                    {
                        totalBytes += request.Bytes.Length;
                        if (pendingEvents == 0)
                            oldestPendingReceivedAt = request.ReceivedAt;
                    }
                }
                if (written.Count > 0)
                    active.Flush(flushToDisk: true);
            }
            catch (IOException ex)
            {
                LogWriteFailed(ex);
                RollBackUnsynced(written);
                foreach (var request in written)
                    request.Completion.TrySetException(ex);
                continue;
            }
            Publish(written);
        }
    }

    private void Publish(List<AppendRequest> written)
    {
        TaskCompletionSource signal;
        lock (gate)
        {
            segmentLengths[activeId] = active.Length;
            pendingEvents += written.Sum(r => r.Events);
            signal = dataAvailable;
            dataAvailable = NewSignal();
        }
        signal.TrySetResult();
        foreach (var request in written)
            request.Completion.TrySetResult();
    }

    /// <summary>After a failed write the segment may hold bytes nobody was told are durable: cut back to the last synced length.</summary>
    private void RollBackUnsynced(List<AppendRequest> written)
    {
        lock (gate)
        {
            var durable = segmentLengths.GetValueOrDefault(activeId);
            totalBytes -= written.Sum(r => r.Bytes.Length);
            try
            {
                active.SetLength(durable);
                active.Position = durable;
            }
            catch (IOException ex)
            {
                LogWriteFailed(ex);
            }
        }
    }

    private void Rotate()
    {
        active.Flush(flushToDisk: true);
        lock (gate)
            segmentLengths[activeId] = active.Length;
        active.Dispose();
        var next = activeId + 1;
        var stream = CreateSegment(next);
        lock (gate)
        {
            activeId = next;
            active = stream;
        }
    }

    private FileStream CreateSegment(long id)
    {
        var stream = new FileStream(SegmentPath(directory, id), FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
        lock (gate)
            segmentLengths[id] = stream.Length;
        DirectorySync.Sync(directory);
        return stream;
    }

    /// <summary>
    /// Reads the next records after the last read (not the last committed) position: up to <paramref name="maxEvents"/>,
    /// waiting up to <paramref name="linger"/> for a partial batch to fill. Empty only when cancelled.
    /// </summary>
    public async Task<SpoolBatch> ReadBatchAsync(int maxEvents, long maxBytes, TimeSpan linger, CancellationToken cancellationToken)
    {
        var records = new List<SpoolRecord>();
        long bytes = 0;
        var lingerUntil = (DateTimeOffset?)null;
        while (!cancellationToken.IsCancellationRequested)
        {
            Task signal;
            lock (gate)
                signal = dataAvailable.Task;
            while (records.Count < maxEvents && bytes < maxBytes && TryReadNext() is { } record)
            {
                records.Add(record);
                bytes += record.EncodedLength;
            }
            if (records.Count >= maxEvents || bytes >= maxBytes)
                break;
            if (records.Count > 0)
            {
                lingerUntil ??= DateTimeOffset.UtcNow + linger;
                var remaining = lingerUntil.Value - DateTimeOffset.UtcNow;
                if (remaining <= TimeSpan.Zero)
                    break;
                await Task.WhenAny(signal, Task.Delay(remaining, cancellationToken));
            }
            else
            {
                await Task.WhenAny(signal, Task.Delay(Timeout.Infinite, cancellationToken));
            }
        }
        lock (gate)
        {
            if (records.Count > 0)
                oldestPendingReceivedAt = records[0].ReceivedAt;
        }
        return new SpoolBatch(records, readPosition);
    }

    private SpoolRecord? TryReadNext()
    {
        while (true)
        {
            long limit;
            bool sealedSegment;
            long? nextSegment;
            lock (gate)
            {
                if (!segmentLengths.TryGetValue(readPosition.SegmentId, out limit))
                {
                    nextSegment = segmentLengths.Keys.Where(id => id > readPosition.SegmentId).Cast<long?>().FirstOrDefault();
                    if (nextSegment is null)
                        return null;
                    readPosition = new SpoolPosition(nextSegment.Value, 0);
                    continue;
                }
                sealedSegment = readPosition.SegmentId != activeId;
                nextSegment = segmentLengths.Keys.Where(id => id > readPosition.SegmentId).Cast<long?>().FirstOrDefault();
            }
            if (readPosition.Offset >= limit)
            {
                if (!sealedSegment || nextSegment is null)
                    return null;
                readPosition = new SpoolPosition(nextSegment.Value, 0);
                continue;
            }
            var stream = ReadStreamFor(readPosition.SegmentId);
            stream.Position = readPosition.Offset;
            Span<byte> header = stackalloc byte[SpoolRecord.HeaderBytes];
            stream.ReadExactly(header);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            var payload = new byte[length];
            stream.ReadExactly(payload);
            var record = SpoolRecord.Decode(payload, crc)
                ?? throw new InvalidDataException($"spool segment {readPosition.SegmentId} is corrupt at offset {readPosition.Offset}");
            readPosition = readPosition with { Offset = readPosition.Offset + SpoolRecord.HeaderBytes + length };
            return record;
        }
    }

    private FileStream ReadStreamFor(long segmentId)
    {
        if (readStreamSegment != segmentId)
        {
            readStream?.Dispose();
            readStream = new FileStream(SegmentPath(directory, segmentId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
            readStreamSegment = segmentId;
        }
        return readStream!;
    }

    /// <summary>Marks everything before <paramref name="end"/> as delivered: deletes consumed segments and saves a checkpoint.</summary>
    public void Commit(SpoolPosition end, int events)
    {
        List<long> consumed;
        lock (gate)
        {
            pendingEvents = Math.Max(0, pendingEvents - events);
            consumed = segmentLengths.Keys.Where(id => id < end.SegmentId && id != activeId).ToList();
            foreach (var id in consumed)
            {
                totalBytes -= segmentLengths[id];
                segmentLengths.Remove(id);
            }
        }
        foreach (var id in consumed)
        {
            if (readStreamSegment == id)
            {
                readStream?.Dispose();
                readStream = null;
                readStreamSegment = -1;
            }
            File.Delete(SegmentPath(directory, id));
        }
        if (consumed.Count > 0)
            DirectorySync.Sync(directory);
        // Not fsync'd: a lost checkpoint only means resending events LocalApi already has, which it deduplicates.
        var temporary = Path.Combine(directory, CheckpointFile + ".tmp");
        File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{end.SegmentId} {end.Offset}"));
        File.Move(temporary, Path.Combine(directory, CheckpointFile), overwrite: true);
    }

    public async ValueTask DisposeAsync()
    {
        requests.Writer.TryComplete();
        await writer;
        await active.DisposeAsync();
        if (readStream is not null)
            await readStream.DisposeAsync();
    }

    private static string SegmentPath(string directory, long id) =>
        Path.Combine(directory, id.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record AppendRequest(ReadOnlyMemory<byte> Bytes, int Events, DateTimeOffset ReceivedAt)
    {
        public TaskCompletionSource Completion { get; } = NewSignal();
    }

    private sealed record ScanResult(IReadOnlyList<(long Id, long Length)> Segments, SpoolPosition Start, long PendingEvents);

    /// <summary>
    /// Validates every segment record by record, truncating at the first torn or garbled record, then resumes from the
    /// checkpoint when it still names a record boundary (else from the oldest segment: LocalApi deduplicates resends).
    /// </summary>
    private static ScanResult Scan(string directory, ILogger logger)
    {
        var checkpoint = ReadCheckpoint(directory);
        var segments = new List<(long Id, long Length)>();
        var checkpointValid = false;
        foreach (var path in Directory.GetFiles(directory, "*" + SegmentExtension).Order(StringComparer.Ordinal))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                continue;
            long offset = 0;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                var header = new byte[SpoolRecord.HeaderBytes];
                while (true)
                {
                    checkpointValid |= checkpoint == new SpoolPosition(id, offset);
                    if (stream.Length - offset < SpoolRecord.HeaderBytes)
                        break;
                    stream.Position = offset;
                    stream.ReadExactly(header);
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                    var crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                    if (length > stream.Length - offset - SpoolRecord.HeaderBytes)
                        break;
                    var payload = new byte[length];
                    stream.ReadExactly(payload);
                    if (SpoolRecord.Decode(payload, crc) is null)
                        break;
                    offset += SpoolRecord.HeaderBytes + length;
                }
                if (offset < stream.Length)
                {
                    LogTruncated(logger, Path.GetFileName(path), stream.Length - offset, offset);
                    stream.SetLength(offset);
                    stream.Flush(flushToDisk: true);
                }
            }
            segments.Add((id, offset));
        }
        var start = checkpointValid && checkpoint is { } saved
            ? saved
            : new SpoolPosition(segments.Count == 0 ? 0 : segments[0].Id, 0);
        // Segments before the checkpoint's were delivered; they remain only after a crash between commit and delete.
        foreach (var delivered in segments.Where(s => s.Id < start.SegmentId))
            File.Delete(SegmentPath(directory, delivered.Id));
        var kept = segments.Where(s => s.Id >= start.SegmentId).ToList();
        var pending = kept.Sum(s => CountRecords(directory, s.Id, s.Id == start.SegmentId ? start.Offset : 0));
        return new ScanResult(kept, start, pending);
    }

    private static long CountRecords(string directory, long id, long fromOffset)
    {
        using var stream = new FileStream(SegmentPath(directory, id), FileMode.Open, FileAccess.Read);
        var header = new byte[SpoolRecord.HeaderBytes];
        long count = 0;
        for (var offset = fromOffset; stream.Length - offset >= SpoolRecord.HeaderBytes; count++)
        {
            stream.Position = offset;
            stream.ReadExactly(header);
            offset += SpoolRecord.HeaderBytes + BinaryPrimitives.ReadUInt32LittleEndian(header);
        }
        return count;
    }

    private static SpoolPosition? ReadCheckpoint(string directory)
    {
        var path = Path.Combine(directory, CheckpointFile);
        if (!File.Exists(path))
            return null;
        var parts = File.ReadAllText(path).Split(' ');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var segment)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? new SpoolPosition(segment, offset)
            : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spool segment {Segment}: cut {Bytes} bytes of torn or garbled data at offset {Offset}")]
    private static partial void LogTruncated(ILogger logger, string segment, long bytes, long offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Spool write failed; the affected requests were refused")]
    private partial void LogWriteFailed(Exception exception);
}
