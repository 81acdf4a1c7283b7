using Microsoft.Extensions.Primitives;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Streaming;

/// <summary>
/// The filters of <c>/v1/stream</c>. <c>entity_type</c>, <c>kind</c> and <c>status</c> take comma lists; <c>status</c>
/// matches <c>entity_status</c> (as <c>/v1/jobs?status=</c> matches the job's status); <c>job_id</c> matches the job's own
/// events and its subjobs'; <c>app_name</c> is a case-insensitive contains-match, as in <c>/v1/jobs</c>.
/// </summary>
internal sealed record StreamFilter(
    IReadOnlySet<string> EntityTypes, IReadOnlySet<string> Kinds, IReadOnlySet<string> Statuses, Guid? JobId, string? AppName)
{
    public bool Matches(FeedEvent e) =>
        (EntityTypes.Count == 0 || EntityTypes.Contains(e.EntityType))
        && (Kinds.Count == 0 || Kinds.Contains(e.Kind))
        && (Statuses.Count == 0 || (e.EntityStatus is { } status && Statuses.Contains(status)))
        && (JobId is not { } job || e.ParentId == job || (e.EntityType == Sdk.Contracts.EntityTypes.Job && e.EntityId == job))
        && (AppName is null || (e.AppName?.Contains(AppName, StringComparison.OrdinalIgnoreCase) ?? false));

    public static (StreamFilter? Filter, string? Error) Parse(IQueryCollection query)
    {
        try
        {
            var jobText = query["job_id"].ToString();
            Guid? jobId = jobText.Length == 0 ? null
                : Guid.TryParse(jobText, out var id) ? id : throw new FormatException($"job_id '{jobText}' is not a UUID");
            var appName = query["app_name"].ToString();
            return (new StreamFilter(
                List(query["entity_type"], "entity_type", Sdk.Contracts.EntityTypes.All),
                List(query["kind"], "kind", EventKinds.All),
                List(query["status"], "status", EntityStatuses.All),
                jobId,
                appName.Length == 0 ? null : appName), null);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }

    private static HashSet<string> List(StringValues values, string name, IReadOnlySet<string> allowed)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in values.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!allowed.Contains(item))
                throw new FormatException($"{name} '{item}' is not one of {string.Join(", ", allowed)}");
            set.Add(item);
        }
        return set;
    }
}
