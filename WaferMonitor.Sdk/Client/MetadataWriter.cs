using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>
/// Turns caller metadata (a dictionary, an anonymous object, a JsonElement…) into the event's metadata object, adds
/// the SDK's own keys and trace context, and keeps it within the sidecar's limit — an event the sidecar rejects for
/// its metadata would leave its job running forever.
/// </summary>
internal static class MetadataWriter
{
    public const string TraceId = "trace_id";
    public const string SpanId = "span_id";
    public const string ErrorType = "error_type";
    public const string Error = "error";
    public const string Progress = "progress";
    public const string Fingerprint = "fingerprint";

    public static JsonElement? Build(
        object? metadata,
        IEnumerable<KeyValuePair<string, JsonNode?>> sdkKeys,
        Activity? activity,
        int maxBytes,
        out int oversizedBytes)
    {
        oversizedBytes = 0;
        var result = Compose(FromCaller(metadata), sdkKeys, activity);
        if (result is null)
            return null;
        var element = JsonSerializer.SerializeToElement(result, WireJson.Options);
        var size = JsonMarshal.GetRawUtf8Value(element).Length;
        if (size <= maxBytes)
            return element;
        oversizedBytes = size;
        var marker = new JsonObject { ["metadata_truncated"] = true, ["metadata_bytes"] = size };
        return JsonSerializer.SerializeToElement(Compose(marker, Truncated(sdkKeys), activity), WireJson.Options);
    }

    private static JsonObject FromCaller(object? metadata)
    {
        if (metadata is null)
            return [];
        try
        {
            var node = JsonSerializer.SerializeToNode(metadata, metadata.GetType(), WireJson.Options);
            return node as JsonObject ?? new JsonObject { ["value"] = node };
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return new JsonObject { ["metadata_error"] = $"{ex.GetType().Name}: {ex.Message}" };
        }
    }

    private static JsonObject? Compose(JsonObject target, IEnumerable<KeyValuePair<string, JsonNode?>> sdkKeys, Activity? activity)
    {
        foreach (var (key, value) in sdkKeys)
            target[key] = value?.DeepClone();
        if (activity is not null && !target.ContainsKey(TraceId))
        {
            target[TraceId] = activity.TraceId.ToHexString();
            target[SpanId] = activity.SpanId.ToHexString();
        }
        return target.Count == 0 ? null : target;
    }

    /// <summary>The SDK's own keys survive truncation, the error message cut short, so a failure still says why.</summary>
    private static IEnumerable<KeyValuePair<string, JsonNode?>> Truncated(IEnumerable<KeyValuePair<string, JsonNode?>> sdkKeys) =>
        sdkKeys.Select(pair => pair.Value is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 1024
            ? new KeyValuePair<string, JsonNode?>(pair.Key, text[..1024])
            : pair);
}
