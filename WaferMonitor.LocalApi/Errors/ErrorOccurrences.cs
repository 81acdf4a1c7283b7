using Npgsql;
using NpgsqlTypes;
using WaferMonitor.LocalApi.Ingest;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Ingest;

namespace WaferMonitor.LocalApi.Errors;

/// <summary>One failing event (a failed <c>finished</c> or an <c>error</c>) with its group, as stored in <c>error_occurrence</c>.</summary>
internal sealed record ErrorOccurrence(
    string IdempotencyKey, ErrorSignature Signature, string SiteId, string AppName, DateTimeOffset At, string EntityType,
    Guid EntityId, Guid JobId, string? JobKey, string? SubKey);

/// <summary>
/// A batch's failing events, fingerprinted before the transaction opens a connection and inserted in the same round trip
/// as the projections. Each event is stored once (only events whose key this transaction claimed get here), and the
/// table is append-only, so the groups derived from it do not depend on the order events arrive in.
/// </summary>
internal static class ErrorOccurrences
{
    public static IReadOnlyList<ErrorOccurrence> From(IEnumerable<IngestItem> items)
    {
        List<ErrorOccurrence>? found = null;
        foreach (var item in items)
        {
            var e = item.Event;
            if (EntityFold.TerminalStatus(e.Event) != EntityStatuses.Failed)
                continue;
            var isJob = e.Entity.Type == EntityTypes.Job;
            (found ??= []).Add(new ErrorOccurrence(e.IdempotencyKey, ErrorFingerprint.Compute(e.App.Name, e.Event.Metadata), e.SiteId,
                e.App.Name, e.Event.At, e.Entity.Type, e.Entity.Id, isJob ? e.Entity.Id : e.Entity.ParentId ?? e.Entity.Id,
                isJob ? e.Entity.BusinessKey : null, isJob ? null : e.Entity.SubKey));
        }
        return found ?? [];
    }

    /// <summary>The insert of the batch's occurrences; null when it has none (most batches).</summary>
    public static NpgsqlBatchCommand? Insert(IReadOnlyList<ErrorOccurrence> occurrences)
    {
        if (occurrences.Count == 0)
            return null;
        var command = new NpgsqlBatchCommand("""
            INSERT INTO error_occurrence (fingerprint, title, error_type, message, site_id, app_name, at, entity_type, entity_id,
                job_id, job_key, sub_key, idempotency_key)
            SELECT * FROM unnest(@fingerprints::text[], @titles::text[], @error_types::text[], @messages::text[], @sites::text[],
                @apps::text[], @ats::timestamptz[], @entity_types::text[], @entity_ids::uuid[], @job_ids::uuid[], @job_keys::text[],
                @sub_keys::text[], @keys::text[])
            """);
        var p = command.Parameters;
        p.AddWithValue("fingerprints", occurrences.Select(o => o.Signature.Fingerprint).ToArray());
        p.AddWithValue("titles", occurrences.Select(o => o.Signature.Title).ToArray());
        p.Add(Array("error_types", occurrences.Select(o => o.Signature.ErrorType).ToArray()));
        p.Add(Array("messages", occurrences.Select(o => o.Signature.Message).ToArray()));
        p.AddWithValue("sites", occurrences.Select(o => o.SiteId).ToArray());
        p.AddWithValue("apps", occurrences.Select(o => o.AppName).ToArray());
        p.AddWithValue("ats", occurrences.Select(o => o.At).ToArray());
        p.AddWithValue("entity_types", occurrences.Select(o => o.EntityType).ToArray());
        p.AddWithValue("entity_ids", occurrences.Select(o => o.EntityId).ToArray());
        p.AddWithValue("job_ids", occurrences.Select(o => o.JobId).ToArray());
        p.Add(Array("job_keys", occurrences.Select(o => o.JobKey).ToArray()));
        p.Add(Array("sub_keys", occurrences.Select(o => o.SubKey).ToArray()));
        p.AddWithValue("keys", occurrences.Select(o => o.IdempotencyKey).ToArray());
        return command;
    }

    private static NpgsqlParameter Array(string name, string?[] values) => new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values };
}
