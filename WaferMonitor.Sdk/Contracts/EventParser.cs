using System.Runtime.InteropServices;
using System.Text.Json;

namespace WaferMonitor.Sdk.Contracts;

/// <summary>Outcome of checking one event: either the parsed event, or a rejection code and a message naming the field.</summary>
public readonly record struct ParsedEvent(WireEvent? Event, string? Code, string? Error)
{
    public bool IsValid => Event is not null;
    public static ParsedEvent Valid(WireEvent e) => new(e, null, null);
    public static ParsedEvent Invalid(string error) => new(null, RejectionCodes.Invalid, error);
    public static ParsedEvent Rejected(string code, string error) => new(null, code, error);
}

/// <summary>
/// Strict reader of the v2 wire format. Written by hand rather than with a deserializer because every rejection
/// must name the offending field (<c>entity.parent_id</c>, <c>event.metrics.cpu_user_s</c>, …).
/// </summary>
public static class EventParser
{
    public static ParsedEvent Parse(JsonElement element, IngestLimits limits, string? expectedSite, DateTimeOffset now)
    {
        if (element.ValueKind != JsonValueKind.Object)
            return ParsedEvent.Invalid("event must be a JSON object");
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length > limits.MaxEventBytes)
            return ParsedEvent.Rejected(RejectionCodes.Invalid, $"event is {raw.Length} bytes; the limit is {limits.MaxEventBytes}");
        if (StorableJson.Check(raw) is { } unstorable)
            return ParsedEvent.Invalid(unstorable);
        try
        {
            var parsed = ParseObject(element, limits);
            if (expectedSite is not null && !string.Equals(parsed.SiteId, expectedSite, StringComparison.Ordinal))
                return ParsedEvent.Rejected(RejectionCodes.WrongSite, $"site_id '{parsed.SiteId}' is not this site ('{expectedSite}')");
            if (parsed.Event.At > now + limits.MaxFutureSkew)
                return ParsedEvent.Rejected(RejectionCodes.FutureSkew,
                    $"event.at {parsed.Event.At:O} is more than {limits.MaxFutureSkew} ahead of the server clock");
            return ParsedEvent.Valid(parsed);
        }
        catch (WireFormatException ex)
        {
            return ParsedEvent.Invalid(ex.Message);
        }
    }

    private static WireEvent ParseObject(JsonElement root, IngestLimits limits)
    {
        var key = RequiredString(root, "idempotency_key", "idempotency_key", IngestLimits.MaxKeyLength);
        var site = RequiredString(root, "site_id", "site_id", IngestLimits.MaxNameLength);

        var app = RequiredObject(root, "app", "app");
        var appRef = new AppRef(
            RequiredUuid(app, "app_id", "app.app_id"),
            RequiredString(app, "name", "app.name", IngestLimits.MaxNameLength),
            RequiredString(app, "version", "app.version", IngestLimits.MaxNameLength, allowEmpty: true));

        var entity = RequiredObject(root, "entity", "entity");
        var type = RequiredString(entity, "type", "entity.type", IngestLimits.MaxNameLength);
        if (!EntityTypes.All.Contains(type))
            throw new WireFormatException($"entity.type must be 'job' or 'subjob', not '{type}'");
        var parentId = OptionalUuid(entity, "parent_id", "entity.parent_id");
        if (type == EntityTypes.Subjob && parentId is null)
            throw new WireFormatException("entity.parent_id is required for a subjob");
        var entityRef = new EntityRef(
            type,
            RequiredUuid(entity, "id", "entity.id"),
            parentId,
            OptionalString(entity, "business_key", "entity.business_key", IngestLimits.MaxNameLength),
            OptionalString(entity, "sub_key", "entity.sub_key", IngestLimits.MaxNameLength));

        var body = RequiredObject(root, "event", "event");
        var kind = RequiredString(body, "kind", "event.kind", IngestLimits.MaxNameLength);
        if (!EventKinds.All.Contains(kind))
            throw new WireFormatException($"event.kind '{kind}' is not one of {string.Join(", ", EventKinds.All)}");
        var status = OptionalString(body, "status", "event.status", IngestLimits.MaxNameLength);
        if (status is not null && !EntityStatuses.All.Contains(status))
            throw new WireFormatException($"event.status '{status}' is not one of {string.Join(", ", EntityStatuses.All)}");

        return new WireEvent(key, site, appRef, entityRef, new EventBody(
            kind,
            RequiredTimestamp(body, "at", "event.at"),
            status,
            Metrics(body),
            Metadata(body, limits)));
    }

    private static Dictionary<string, double>? Metrics(JsonElement body)
    {
        if (!body.TryGetProperty("metrics", out var metrics) || metrics.ValueKind == JsonValueKind.Null)
            return null;
        if (metrics.ValueKind != JsonValueKind.Object)
            throw new WireFormatException("event.metrics must be an object of numbers");
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in metrics.EnumerateObject())
        {
            if (metric.Value.ValueKind == JsonValueKind.Null)
                continue;
            if (metric.Value.ValueKind != JsonValueKind.Number
                || !metric.Value.TryGetDouble(out var value) || !double.IsFinite(value))
                throw new WireFormatException($"event.metrics.{metric.Name} must be a finite number");
            result[metric.Name] = value;
        }
        return result;
    }

    private static JsonElement? Metadata(JsonElement body, IngestLimits limits)
    {
        if (!body.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null)
            return null;
        if (metadata.ValueKind != JsonValueKind.Object)
            throw new WireFormatException("event.metadata must be a JSON object");
        var size = JsonMarshal.GetRawUtf8Value(metadata).Length;
        if (size > limits.MaxMetadataBytes)
            throw new WireFormatException($"event.metadata is {size} bytes; the limit is {limits.MaxMetadataBytes}");
        return metadata.Clone();
    }

    private static JsonElement RequiredObject(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new WireFormatException($"{path} is required");
        if (value.ValueKind != JsonValueKind.Object)
            throw new WireFormatException($"{path} must be an object");
        return value;
    }

    private static string RequiredString(JsonElement parent, string name, string path, int maxLength, bool allowEmpty = false)
    {
        return OptionalString(parent, name, path, maxLength, allowEmpty)
            ?? throw new WireFormatException($"{path} is required");
    }

    private static string? OptionalString(JsonElement parent, string name, string path, int maxLength, bool allowEmpty = false)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new WireFormatException($"{path} must be a string");
        var text = value.GetString()!;
        if (!allowEmpty && text.Length == 0)
            throw new WireFormatException($"{path} must not be empty");
        if (text.Length > maxLength)
            throw new WireFormatException($"{path} is longer than {maxLength} characters");
        return text;
    }

    private static Guid RequiredUuid(JsonElement parent, string name, string path) =>
        OptionalUuid(parent, name, path) ?? throw new WireFormatException($"{path} is required");

    private static Guid? OptionalUuid(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String || !Guid.TryParse(value.GetString(), out var id))
            throw new WireFormatException($"{path} must be a UUID");
        return id;
    }

    private static DateTimeOffset RequiredTimestamp(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new WireFormatException($"{path} is required");
        // TryGetDateTimeOffset would read an offset-less time as server-local; the contract says UTC.
        if (value.ValueKind == JsonValueKind.String && value.TryGetDateTime(out var dateTime))
        {
            if (dateTime.Kind == DateTimeKind.Unspecified)
                return InRange(new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)), path);
            // As UTC: the instant is what counts, and PostgreSQL's timestamptz takes only offset 0 from Npgsql.
            if (value.TryGetDateTimeOffset(out var withOffset))
                return InRange(withOffset.ToUniversalTime(), path);
        }
        throw new WireFormatException($"{path} must be an ISO 8601 timestamp");
    }

    /// <summary>
    /// Times before the Unix epoch are no fab's events and broke date arithmetic downstream (year 1 overflows
    /// PostgreSQL's interval math); the upper end is .NET's own limit.
    /// </summary>
    private static DateTimeOffset InRange(DateTimeOffset at, string path) =>
        at >= EarliestTimestamp ? at : throw new WireFormatException($"{path} must be between {EarliestTimestamp:yyyy-MM-dd} and 9999-12-31");

    public static readonly DateTimeOffset EarliestTimestamp = DateTimeOffset.UnixEpoch;

    private sealed class WireFormatException(string message) : Exception(message);
}
