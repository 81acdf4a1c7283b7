using System.Text.Json;
using WaferMonitor.Sidecar.Spool;

namespace WaferMonitor.Sidecar.Forwarding;

/// <summary>How a stretch of spooled events is split for delivery: into lanes by job, and each lane into batches.</summary>
internal static class ForwardingLanes
{
    /// <summary>
    /// Deals records to <paramref name="lanes"/> lanes by the job they belong to (a subjob's parent, else the entity
    /// itself), keeping spool order within each lane. A job's lane is the same in every stretch.
    /// </summary>
    public static List<SpoolRecord>[] Deal(IReadOnlyList<SpoolRecord> records, int lanes)
    {
        var dealt = Enumerable.Range(0, lanes).Select(_ => new List<SpoolRecord>(records.Count / lanes + 1)).ToArray();
        foreach (var record in records)
            dealt[lanes == 1 ? 0 : (int)((uint)JobOf(record.EventJson).GetHashCode() % (uint)lanes)].Add(record);
        return dealt;
    }

    /// <summary>Consecutive batches of at most <paramref name="maxEvents"/> events and (unless one event is larger) <paramref name="maxBytes"/> bytes.</summary>
    public static IEnumerable<List<SpoolRecord>> Batches(List<SpoolRecord> lane, int maxEvents, long maxBytes)
    {
        var batch = new List<SpoolRecord>();
        long bytes = 0;
        foreach (var record in lane)
        {
            if (batch.Count > 0 && (batch.Count == maxEvents || bytes + record.EventJson.Length > maxBytes))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }
            batch.Add(record);
            bytes += record.EventJson.Length;
        }
        if (batch.Count > 0)
            yield return batch;
    }

    /// <summary>
    /// The job an event belongs to: <c>entity.parent_id</c> when set, else <c>entity.id</c>. The Sidecar validated the
    /// event when it was spooled; a record that does not say (not expected) goes with <see cref="Guid.Empty"/>.
    /// </summary>
    public static Guid JobOf(ReadOnlySpan<byte> eventJson)
    {
        try
        {
            return ReadJob(new Utf8JsonReader(eventJson));
        }
        catch (JsonException)
        {
            return Guid.Empty;
        }
    }

    private static Guid ReadJob(Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return Guid.Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEntity = reader.ValueTextEquals("entity"u8);
            if (!reader.Read())
                return Guid.Empty;
            if (!isEntity || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            Guid? id = null, parent = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                var isParent = reader.ValueTextEquals("parent_id"u8);
                if (!reader.Read())
                    return Guid.Empty;
                if ((isId || isParent) && TryGetUuid(ref reader, out var value))
                {
                    if (isId)
                        id = value;
                    else
                        parent = value;
                }
                else
                {
                    reader.Skip();
                }
            }
            return parent ?? id ?? Guid.Empty;
        }
        return Guid.Empty;
    }

    /// <summary>Reads a UUID in any form <see cref="Guid.TryParse(string?, out Guid)"/> takes, as the Sidecar's validation did.</summary>
    private static bool TryGetUuid(ref Utf8JsonReader reader, out Guid value)
    {
        value = default;
        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > 128)
            return false;
        Span<char> text = stackalloc char[128];
        return Guid.TryParse(text[..reader.CopyString(text)], out value);
    }
}
