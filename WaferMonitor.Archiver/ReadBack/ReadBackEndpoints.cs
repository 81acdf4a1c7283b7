using System.Globalization;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Archiver.ReadBack;

internal static class ReadBackEndpoints
{
    private const int DefaultLimit = 1000;
    private const int MaxLimit = 10_000;

    public static IEndpointRouteBuilder MapReadBackEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/archive/jobs").WithTags("Archive read-back").RequireRead();
        group.MapGet("", ListJobs).Produces<ArchivedJobPage>().ProducesProblem(400);
        group.MapGet("/{jobId}", GetJob).Produces<ArchivedJobDetail>().ProducesProblem(400).ProducesProblem(404);
        return routes;
    }

    private static async Task<IResult> ListJobs(HttpRequest request, ArchiveReadBack readBack, CancellationToken cancellationToken)
    {
        var (query, error) = Parse(request.Query);
        return query is null ? BadParameter(error!) : TypedResults.Ok(await readBack.ListJobsAsync(query, cancellationToken));
    }

    private static async Task<IResult> GetJob(string jobId, ArchiveReadBack readBack, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(jobId, out var id))
            return BadParameter($"job id '{jobId}' is not a UUID");
        var detail = await readBack.GetJobAsync(id, cancellationToken);
        return detail is null
            ? TypedResults.Problem($"no archived job {id} on this site", statusCode: StatusCodes.Status404NotFound, title: "Job not found")
            : TypedResults.Ok(detail);
    }

    private static (ArchiveJobQuery? Query, string? Error) Parse(IQueryCollection query)
    {
        DateTimeOffset? from = null, to = null;
        if (query["from"].ToString() is { Length: > 0 } fromText)
        {
            if (!TryTime(fromText, out var parsed))
                return (null, $"from: '{fromText}' is not an ISO 8601 time");
            from = parsed;
        }
        if (query["to"].ToString() is { Length: > 0 } toText)
        {
            if (!TryTime(toText, out var parsed))
                return (null, $"to: '{toText}' is not an ISO 8601 time");
            to = parsed;
        }
        if (from > to)
            return (null, "from must not be after to");
        var limit = DefaultLimit;
        if (query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            return (null, $"limit: '{limitText}' must be an integer from 1 to {MaxLimit}");
        var businessKey = query["business_key"].ToString() is { Length: > 0 } key ? key : null;
        return (new ArchiveJobQuery(from, to, businessKey, limit), null);
    }

    /// <summary>ISO 8601; without an offset the time is UTC, as in the wire contract.</summary>
    private static bool TryTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static IResult BadParameter(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
}
