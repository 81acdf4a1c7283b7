using Npgsql;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Archiver.Archive;

internal static class ArchiveEndpoints
{
    public static IEndpointRouteBuilder MapArchiveEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/archive").WithTags("Archive");
        group.MapPost("/run", Run).RequireAdmin().Produces<RunSummary>().ProducesProblem(400).ProducesProblem(503);
        group.MapGet("/status", Status).RequireRead().Produces<ArchiveStatus>();
        return routes;
    }

    /// <summary>Answers when the run is over; <c>?through=now</c> also closes the current partial window.</summary>
    private static async Task<IResult> Run(string? through, ArchiveRunner runner, CancellationToken cancellationToken)
    {
        if (through is not (null or "now"))
            return TypedResults.Problem($"through must be 'now' or absent, not '{through}'", statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid query parameter");
        try
        {
            return TypedResults.Ok(await runner.RunAsync(throughNow: through == "now", cancellationToken));
        }
        catch (Exception ex) when (ex is ArchiveUnavailableException or NpgsqlException or Amazon.Runtime.AmazonServiceException
                                       or Amazon.Runtime.AmazonClientException or IOException or HttpRequestException)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Archive run failed");
        }
    }

    private static async Task<IResult> Status(ArchiveRunner runner, CancellationToken cancellationToken) =>
        TypedResults.Ok(await runner.StatusAsync(cancellationToken));
}
