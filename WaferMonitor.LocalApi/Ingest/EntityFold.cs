using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// The projection state one batch contributes to a job or subjob row (DESIGN.md §4.3). Folding is associative and
/// order-independent, and so is merging the result into the stored row in SQL — the row is the same whatever order
/// events and batches arrive in.
/// </summary>
internal sealed class EntityFold
{
    private EntityFold(WireEvent first)
    {
        EntityId = first.Entity.Id;
        ParentId = first.Entity.ParentId;
        SiteId = first.SiteId;
        App = first.App;
        Key = first.Entity.Type == EntityTypes.Job ? first.Entity.BusinessKey : first.Entity.SubKey;
        FirstAnyAt = first.Event.At;
        LastEventAt = first.Event.At;
    }

    public Guid EntityId { get; }
    public Guid? ParentId { get; }
    public string SiteId { get; }
    public AppRef App { get; }
    public string? Key { get; private set; }
    public DateTimeOffset? FirstStartedAt { get; private set; }
    public DateTimeOffset FirstAnyAt { get; private set; }
    public DateTimeOffset LastEventAt { get; private set; }
    public Terminal? Winner { get; private set; }
    public double? MemMaxMb { get; private set; }
    public JsonObject? Metadata { get; private set; }
    public JsonObject? MetadataStamps { get; private set; }

    public sealed record Terminal(DateTimeOffset At, string Key, string Status, double? DurationS, double? CpuUserS, double? CpuSystemS);

    public static IReadOnlyList<EntityFold> Fold(IEnumerable<WireEvent> events, string entityType)
    {
        var folds = new Dictionary<Guid, EntityFold>();
        foreach (var e in events)
        {
            if (e.Entity.Type != entityType)
                continue;
            if (!folds.TryGetValue(e.Entity.Id, out var fold))
                folds[e.Entity.Id] = fold = new EntityFold(e);
            fold.Add(e);
        }
        // Key order: concurrent batches lock rows in the same order and cannot deadlock.
        return [.. folds.Values.OrderBy(f => f.EntityId)];
    }

    private void Add(WireEvent e)
    {
        var body = e.Event;
        Key ??= e.Entity.Type == EntityTypes.Job ? e.Entity.BusinessKey : e.Entity.SubKey;
        if (body.At < FirstAnyAt)
            FirstAnyAt = body.At;
        if (body.At > LastEventAt)
            LastEventAt = body.At;
        if (body.Kind == EventKinds.Started && (FirstStartedAt is null || body.At < FirstStartedAt))
            FirstStartedAt = body.At;
        if (body.Metrics is not null && body.Metrics.TryGetValue(MetricNames.MemMaxMb, out var mem) && (MemMaxMb is null || mem > MemMaxMb))
            MemMaxMb = mem;
        if (TerminalStatus(body) is { } status)
        {
            var candidate = new Terminal(body.At, e.IdempotencyKey, status,
                Metric(body, MetricNames.DurationSeconds), Metric(body, MetricNames.CpuUserSeconds), Metric(body, MetricNames.CpuSystemSeconds));
            if (Winner is null || Compare(candidate.At, candidate.Key, Winner.At, Winner.Key) > 0)
                Winner = candidate;
        }
        if (body.Metadata is { ValueKind: JsonValueKind.Object } metadata)
        {
            var stamp = Stamp(body.At, e.IdempotencyKey);
            Metadata ??= [];
            MetadataStamps ??= [];
            foreach (var property in metadata.EnumerateObject())
            {
                var existing = MetadataStamps[property.Name]?.GetValue<string>();
                if (existing is null || string.CompareOrdinal(stamp, existing) > 0)
                {
                    Metadata[property.Name] = JsonNode.Parse(property.Value.GetRawText());
                    MetadataStamps[property.Name] = stamp;
                }
            }
        }
    }

    /// <summary>The status a terminal event sets, or null for a non-terminal event.</summary>
    public static string? TerminalStatus(EventBody body) => body.Kind switch
    {
        EventKinds.Finished => body.Status is EntityStatuses.Failed or EntityStatuses.Canceled ? body.Status : EntityStatuses.Succeeded,
        EventKinds.Error => EntityStatuses.Failed,
        EventKinds.Canceled => EntityStatuses.Canceled,
        _ => null,
    };

    /// <summary>
    /// A sortable text form of (at, idempotency_key). The fixed-width UTC timestamp makes text order equal time order;
    /// keys compare byte-wise as PostgreSQL's "C" collation does (the contract's keys are ASCII in practice — v2 sends UUIDs).
    /// </summary>
    public static string Stamp(DateTimeOffset at, string key) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + "|" + key;

    private static int Compare(DateTimeOffset atA, string keyA, DateTimeOffset atB, string keyB)
    {
        var byTime = TruncateToMicros(atA).CompareTo(TruncateToMicros(atB));
        return byTime != 0 ? byTime : Encoding.UTF8.GetBytes(keyA).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(keyB));
    }

    // PostgreSQL keeps microseconds; compare at the precision the stored row will have.
    private static DateTimeOffset TruncateToMicros(DateTimeOffset at) => at.AddTicks(-(at.UtcTicks % 10));

    private static double? Metric(EventBody body, string name) =>
        body.Metrics is not null && body.Metrics.TryGetValue(name, out var value) ? value : null;
}
