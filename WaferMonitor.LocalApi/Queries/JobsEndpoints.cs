using System.Diagnostics;
using WaferMonitor.ServiceDefaults.Compatibility;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Queries;

internal static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapJobsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Jobs").RequireRead();
        group.MapGet("/jobs", ListJobs).Produces<Page<JobItem>>().ProducesProblem(400);
        group.MapGet("/subjobs", ListSubjobs).Produces<Page<SubjobItem>>().ProducesProblem(400);
        group.MapGet("/jobs/{jobId}", GetJob).Produces<JobDetail>().ProducesProblem(400).ProducesProblem(404);
        return routes;
    }

    private static async Task<IResult> ListJobs(HttpRequest request, JobQueries queries, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (query, error) = ListQuery.Parse(request.Query);
        if (query is null)
            return BadParameter(error!);
        if (!IsCsv(request, out var formatError))
            return formatError ?? Timed(await queries.ListJobsAsync(query, cancellationToken), started);
        return CsvExport.Jobs(queries, query, cancellationToken);
    }

    private static async Task<IResult> ListSubjobs(HttpRequest request, JobQueries queries, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (query, error) = ListQuery.Parse(request.Query);
        if (query is null)
            return BadParameter(error!);
        if (!IsCsv(request, out var formatError))
            return formatError ?? Timed(await queries.ListSubjobsAsync(query, cancellationToken), started);
        return CsvExport.Subjobs(queries, query, cancellationToken);
    }

    private static async Task<IResult> GetJob(string jobId, JobQueries queries, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(jobId, out var id))
            return BadParameter($"job id '{jobId}' is not a UUID");
        var detail = await queries.GetJobAsync(id, cancellationToken);
        return detail is null
            ? TypedResults.Problem($"no job {id} on this site", statusCode: StatusCodes.Status404NotFound, title: "Job not found")
            : TypedResults.Ok(detail);
    }

    /// <summary><c>format</c> is <c>json</c> (the default) or <c>csv</c>; anything else is a bad parameter.</summary>
    private static bool IsCsv(HttpRequest request, out IResult? error)
    {
        var format = request.Query["format"].ToString();
        error = format is "" or "json" or "csv" ? null : BadParameter($"format '{format}' is not one of json, csv");
        return format == "csv";
    }

    private static IResult Timed<T>(Page<T> page, long started) => TypedResults.Ok(page with { DurationS = DurationField.Since(started) });

    private static IResult BadParameter(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
}
