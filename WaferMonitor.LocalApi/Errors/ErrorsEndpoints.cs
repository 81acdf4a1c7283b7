using WaferMonitor.ServiceDefaults.Security;
using System.Diagnostics;
using WaferMonitor.LocalApi.Queries;
using WaferMonitor.ServiceDefaults.Compatibility;

namespace WaferMonitor.LocalApi.Errors;

internal static class ErrorsEndpoints
{
    public static IEndpointRouteBuilder MapErrorsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Errors").RequireRead();
        group.MapGet("/errors", ListGroups)
            .WithSummary("Failures grouped by fingerprint: counts, first/last seen, hourly counts, affected lots and wafers, new/regressed")
            .Produces<ErrorGroupList>().ProducesProblem(400);
        group.MapGet("/errors/{fingerprint}", ListOccurrences)
            .WithSummary("One error group's occurrences, newest stored first, keyset-paged")
            .Produces<Page<ErrorOccurrenceItem>>().ProducesProblem(400);
        return routes;
    }

    private static async Task<IResult> ListGroups(HttpRequest request, ErrorQueries queries, TimeProvider clock, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (query, error) = ErrorQuery.Parse(request.Query, clock.GetUtcNow());
        if (query is null)
            return BadParameter(error!);
        return TypedResults.Ok(await queries.ListAsync(query, cancellationToken) with { DurationS = DurationField.Since(started) });
    }

    private static async Task<IResult> ListOccurrences(string fingerprint, HttpRequest request, ErrorQueries queries, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (fingerprint.Length > QueryParameters.MaxTextLength || fingerprint.Contains('\0'))
                throw new FormatException("fingerprint is not one this API issued");
            var page = await queries.OccurrencesAsync(fingerprint, QueryParameters.Time(request.Query, "from"), QueryParameters.Time(request.Query, "to"),
                QueryParameters.Limit(request.Query, ListQuery.DefaultLimit, ListQuery.MaxLimit), Cursor.Decode(QueryParameters.Text(request.Query, "cursor")),
                cancellationToken);
            return TypedResults.Ok(page with { DurationS = DurationField.Since(started) });
        }
        catch (FormatException ex)
        {
            return BadParameter(ex.Message);
        }
    }

    private static IResult BadParameter(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
}
