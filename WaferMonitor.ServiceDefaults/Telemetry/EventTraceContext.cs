using System.Diagnostics;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.ServiceDefaults.Telemetry;

/// <summary>
/// The trace an event belongs to. Events travel in batches that mix many jobs, so a batch span cannot be each job's
/// child: it links to every event's context instead. An event's own <c>metadata.trace_id</c>/<c>span_id</c> (set by the
/// SDK) wins; otherwise the traceparent of the request that brought it.
/// </summary>
public static class EventTraceContext
{
    /// <summary>OpenTelemetry's default span link limit; more links would be dropped by the SDK anyway.</summary>
    public const int MaxLinks = 128;

    public static ActivityContext? FromMetadata(WireEvent wireEvent)
    {
        if (wireEvent.Event.Metadata is not { ValueKind: JsonValueKind.Object } metadata
            || !metadata.TryGetProperty("trace_id", out var traceId) || traceId.ValueKind != JsonValueKind.String
            || !metadata.TryGetProperty("span_id", out var spanId) || spanId.ValueKind != JsonValueKind.String)
            return null;
        var trace = traceId.GetString()!;
        var span = spanId.GetString()!;
        if (trace.Length != 32 || span.Length != 16 || !IsLowerHex(trace) || !IsLowerHex(span))
            return null;
        return new ActivityContext(ActivityTraceId.CreateFromString(trace), ActivitySpanId.CreateFromString(span), ActivityTraceFlags.Recorded, isRemote: true);
    }

    public static ActivityContext? FromTraceParent(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : null;

    public static string ToTraceParent(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    /// <summary>One link per distinct context, at most <see cref="MaxLinks"/>.</summary>
    public static List<ActivityLink> Links(IEnumerable<ActivityContext?> contexts)
    {
        var seen = new HashSet<ActivityContext>();
        var links = new List<ActivityLink>();
        foreach (var context in contexts)
        {
            if (context is { } c && seen.Add(c))
            {
                links.Add(new ActivityLink(c));
                if (links.Count == MaxLinks)
                    break;
            }
        }
        return links;
    }

    private static bool IsLowerHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c))
                return false;
        }
        return true;
    }
}
