using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WaferMonitor.LocalApi.Streaming;

/// <summary>One row of the event table as the feed reads it: the stored event and its projection's status when read.</summary>
internal readonly record struct StoredEventRow(
    long Seq, string Payload, string EntityType, Guid EntityId, Guid? ParentId, string Kind, string? AppName, string? EntityStatus);

/// <summary>One stored event with what the filters need, and its SSE message encoded once for every client.</summary>
internal sealed class FeedEvent
{
    public static FeedEvent From(StoredEventRow row) =>
        new(row.Seq, row.Payload, row.EntityType, row.EntityId, row.ParentId, row.Kind, row.AppName, row.EntityStatus);

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();

    public FeedEvent(long seq, string payload, string entityType, Guid entityId, Guid? parentId, string kind, string? appName, string? entityStatus)
    {
        Seq = seq;
        EntityType = entityType;
        EntityId = entityId;
        ParentId = parentId;
        Kind = kind;
        AppName = appName;
        EntityStatus = entityStatus;
        Frame = Encode(seq, payload, entityStatus);
    }

    public long Seq { get; }
    public string EntityType { get; }
    public Guid EntityId { get; }
    public Guid? ParentId { get; }
    public string Kind { get; }
    public string? AppName { get; }
    public string? EntityStatus { get; }

    /// <summary><c>id: &lt;seq&gt;</c>, one <c>data:</c> line, blank line.</summary>
    public ReadOnlyMemory<byte> Frame { get; }

    private static byte[] Encode(long seq, string payload, string? entityStatus)
    {
        var buffer = new ArrayBufferWriter<byte>(payload.Length + 96);
        buffer.Write(Encoding.UTF8.GetBytes($"id: {seq.ToString(CultureInfo.InvariantCulture)}\n"));
        buffer.Write(DataPrefix);
        // The payload is jsonb text from PostgreSQL: valid JSON without raw line breaks, so it stays on the one data line.
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", seq);
            json.WritePropertyName("event");
            json.WriteRawValue(payload, skipInputValidation: true);
            json.WriteString("entity_status", entityStatus);
            json.WriteEndObject();
        }
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
