using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using WaferMonitor.ServiceDefaults.Ingest;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// A batch's event rows in PostgreSQL's binary COPY format (header, per row a field count and length-prefixed values,
/// trailer), encoded before the transaction opens a connection; once it knows its ingest time and its seqs,
/// <see cref="Stamp"/> fills those fixed-width values in place, so while the transaction holds its connection only bytes
/// go to the server. Written by hand because Npgsql's row importer resolves a converter and awaits a write for each of
/// the twelve values of every row, all while the transaction is open. Only the event table's column types are
/// written: bigint, timestamptz, text, uuid and jsonb.
/// </summary>
internal sealed class EventCopyRows : IDisposable
{
    public const string CopyCommand = """
        COPY event (seq, ingested_at, idempotency_key, site_id, app_id, entity_type, entity_id, parent_id, kind, at, status, payload)
        FROM STDIN (FORMAT BINARY)
        """;

    private const short FieldCount = 12;
    /// <summary>From a row's start: its field count, then seq's length and value, then ingested_at's length and value.</summary>
    private const int SeqOffset = sizeof(short) + sizeof(int);
    private const int IngestedAtOffset = SeqOffset + sizeof(long) + sizeof(int);
    private const byte JsonbVersion = 1;
    /// <summary>The signature <c>PGCOPY\n\377\r\n\0</c>, then no flags and no header extension.</summary>
    private static readonly byte[] Header =
        [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private readonly byte[] buffer;
    private readonly int[] rowStarts;

    public ReadOnlyMemory<byte> Bytes { get; }

    public int Count => rowStarts.Length;

    public EventCopyRows(IReadOnlyList<IngestItem> items)
    {
        rowStarts = new int[items.Count];
        var length = Header.Length + sizeof(short);
        foreach (var item in items)
            length += RowLength(item);
        buffer = ArrayPool<byte>.Shared.Rent(length);
        var span = buffer.AsSpan(0, length);
        Header.CopyTo(span);
        var at = Header.Length;
        for (var row = 0; row < items.Count; row++)
        {
            var item = items[row];
            var e = item.Event;
            rowStarts[row] = at;
            BinaryPrimitives.WriteInt16BigEndian(span[at..], FieldCount);
            at += sizeof(short);
            // seq and ingested_at: eight-byte values that Stamp fills in.
            at += WriteEightBytePlaceholder(span[at..]);
            at += WriteEightBytePlaceholder(span[at..]);
            at += WriteText(span[at..], e.IdempotencyKey);
            at += WriteText(span[at..], e.SiteId);
            at += WriteUuid(span[at..], e.App.AppId);
            at += WriteText(span[at..], e.Entity.Type);
            at += WriteUuid(span[at..], e.Entity.Id);
            at += e.Entity.ParentId is { } parent ? WriteUuid(span[at..], parent) : WriteNull(span[at..]);
            at += WriteText(span[at..], e.Event.Kind);
            at += WriteTimestamp(span[at..], e.Event.At.UtcDateTime);
            at += e.Event.Status is { } status ? WriteText(span[at..], status) : WriteNull(span[at..]);
            // jsonb's binary form is a version byte and the JSON text: the UTF-8 bytes as received.
            BinaryPrimitives.WriteInt32BigEndian(span[at..], 1 + item.Raw.Length);
            span[at + 4] = JsonbVersion;
            item.Raw.CopyTo(span[(at + 5)..]);
            at += 5 + item.Raw.Length;
        }
        BinaryPrimitives.WriteInt16BigEndian(span[at..], -1);
        Bytes = buffer.AsMemory(0, length);
    }

    /// <summary>Fills in every row's seq (consecutive from <paramref name="firstSeq"/>, in batch order) and ingest time.</summary>
    public void Stamp(long firstSeq, DateTime ingestedAt)
    {
        var micros = Microseconds(ingestedAt);
        for (var row = 0; row < rowStarts.Length; row++)
        {
            BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(rowStarts[row] + SeqOffset), firstSeq + row);
            BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(rowStarts[row] + IngestedAtOffset), micros);
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);

    private static int RowLength(IngestItem item)
    {
        var e = item.Event;
        return sizeof(short) + FieldCount * sizeof(int)
            + 8 + 8 + Encoding.UTF8.GetByteCount(e.IdempotencyKey) + Encoding.UTF8.GetByteCount(e.SiteId) + 16
            + Encoding.UTF8.GetByteCount(e.Entity.Type) + 16 + (e.Entity.ParentId is null ? 0 : 16)
            + Encoding.UTF8.GetByteCount(e.Event.Kind) + 8 + (e.Event.Status is { } status ? Encoding.UTF8.GetByteCount(status) : 0)
            + 1 + item.Raw.Length;
    }

    /// <summary>timestamptz: microseconds since 2000-01-01 UTC, truncated as Npgsql does.</summary>
    private static int WriteTimestamp(Span<byte> destination, DateTime utc)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, 8);
        BinaryPrimitives.WriteInt64BigEndian(destination[4..], Microseconds(utc));
        return 12;
    }

    private static long Microseconds(DateTime utc) => (utc.Ticks - PostgresEpochTicks) / 10;

    private static int WriteText(Span<byte> destination, string value)
    {
        var written = Encoding.UTF8.GetBytes(value, destination[4..]);
        BinaryPrimitives.WriteInt32BigEndian(destination, written);
        return 4 + written;
    }

    /// <summary>uuid: the 16 bytes in RFC 4122 (big-endian) order.</summary>
    private static int WriteUuid(Span<byte> destination, Guid value)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, 16);
        value.TryWriteBytes(destination.Slice(4, 16), bigEndian: true, out _);
        return 20;
    }

    private static int WriteEightBytePlaceholder(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, sizeof(long));
        return sizeof(int) + sizeof(long);
    }

    private static int WriteNull(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, -1);
        return 4;
    }
}
