using WaferMonitor.LocalApi.Errors;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Ingest;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// What storing a transaction's events needs that no database does: the projection folds, the failures' fingerprints
/// and the encoded event rows.
/// Built before the transaction opens a connection, so that the time it holds one (and, for its COPY, the commit-order
/// lock) is spent on the database.
/// </summary>
internal sealed class PreparedEvents : IDisposable
{
    /// <param name="fingerprint">False leaves <see cref="Errors"/> empty (<c>Errors:Enabled=false</c>).</param>
    public PreparedEvents(List<IngestItem> items, bool fingerprint)
    {
        Items = items;
        var events = items.Select(i => i.Event).ToList();
        Jobs = EntityFold.Fold(events, EntityTypes.Job);
        Subjobs = EntityFold.Fold(events, EntityTypes.Subjob);
        Errors = fingerprint ? ErrorOccurrences.From(items) : [];
        Rows = new EventCopyRows(items);
    }

    public List<IngestItem> Items { get; }
    public IReadOnlyList<EntityFold> Jobs { get; }
    public IReadOnlyList<EntityFold> Subjobs { get; }
    public IReadOnlyList<ErrorOccurrence> Errors { get; }
    public EventCopyRows Rows { get; }

    public void Dispose() => Rows.Dispose();
}
