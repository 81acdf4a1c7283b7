using System.Buffers;
using System.Text;
using System.Text.Json;
using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.LocalApi.Streaming;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>A stored terminal event an integration delivers.</summary>
/// <param name="Payload">The event as stored (the wire format of DESIGN.md §4.1), JSON text.</param>
/// <param name="Status">The status this terminal event sets (<see cref="EntityFold.TerminalStatus"/>).</param>
/// <param name="EntityStatus">The job's or subjob's status when the event was read (another terminal event may have won).</param>
internal sealed record IntegrationEvent(long Seq, string Payload, WireEvent Event, string Status, string? EntityStatus)
{
    public string IdempotencyKey => Event.IdempotencyKey;

    public static IntegrationEvent? FromTerminal(StoredEventRow row)
    {
        if (row.Kind is not (EventKinds.Finished or EventKinds.Error or EventKinds.Canceled))
            return null;
        var wire = JsonSerializer.Deserialize<WireEvent>(row.Payload, WireJson.Options)!;
        return new IntegrationEvent(row.Seq, row.Payload, wire, EntityFold.TerminalStatus(wire.Event)!, row.EntityStatus);
    }

    /// <summary>
    /// What every sink sends for the event: <c>{"seq", "status", "entity_status", "event": &lt;stored event&gt;}</c> — the
    /// stream's message plus the status this event sets — with <c>@timestamp</c> (the event's <c>at</c>) first when asked.
    /// </summary>
    public string EnvelopeJson(bool withTimestamp = false)
    {
        var buffer = new ArrayBufferWriter<byte>(Payload.Length + 128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (withTimestamp)
                json.WriteString("@timestamp", Event.Event.At);
            json.WriteNumber("seq", Seq);
            json.WriteString("status", Status);
            json.WriteString("entity_status", EntityStatus);
            json.WritePropertyName("event");
            // jsonb text from PostgreSQL: valid JSON on one line.
            json.WriteRawValue(Payload, skipInputValidation: true);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public double? Metric(string name) => Event.Event.Metrics is { } metrics && metrics.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Which terminal events an integration delivers: by app-name glob, terminal status and entity type; the synthetic checks'
/// reserved app only when the integration asks for it (<see cref="IntegrationOptions.IncludeSynthetic"/>), as listings do.
/// </summary>
internal sealed class IntegrationFilter(IntegrationOptions options)
{
    private readonly bool includeSynthetic = options.IncludeSynthetic;
    private readonly IReadOnlyList<string> apps = Split(options.Apps);
    private readonly IReadOnlyList<string> statuses = Split(options.Statuses);
    private readonly IReadOnlyList<string> entityTypes = Split(options.EntityTypes);

    public bool Matches(IntegrationEvent e) =>
        (includeSynthetic || e.Event.App.Name != SyntheticChecks.CanaryApp)
        && entityTypes.Contains(e.Event.Entity.Type)
        && (statuses.Count == 0 || statuses.Contains(e.Status))
        // The BCL's file-name wildcard matcher (* and ?) is the glob app names need; no path separators are involved.
        && (apps.Count == 0 || apps.Any(glob => System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(glob, e.Event.App.Name, ignoreCase: false)));

    public static IReadOnlyList<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
