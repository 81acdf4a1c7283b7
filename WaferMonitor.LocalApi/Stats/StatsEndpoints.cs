using WaferMonitor.LocalApi.Queries;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Stats;

internal static class StatsEndpoints
{
    private static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);
    private static readonly TimeSpan DefaultBucket = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxBucket = TimeSpan.FromDays(366);

    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1").WithTags("Stats").RequireRead()
            .MapGet("/stats", GetStats)
            .WithSummary("Job counts, time buckets, per-app percentiles and failure rates, running jobs")
            .Produces<JobStats>().ProducesProblem(400);
        return routes;
    }

    private static async Task<IResult> GetStats(HttpRequest request, StatsQueries stats, TimeProvider clock, CancellationToken cancellationToken)
    {
        try
        {
            var to = QueryParameters.Time(request.Query, "to") ?? clock.GetUtcNow();
            var from = QueryParameters.Time(request.Query, "from") ?? to - DefaultRange;
            if (from >= to)
                throw new FormatException("from must be before to");
            var bucketText = request.Query["bucket"].ToString();
            var bucket = string.IsNullOrEmpty(bucketText) ? DefaultBucket : Duration.Parse(bucketText).Value;
            if (bucket < TimeSpan.FromSeconds(1) || bucket > MaxBucket)
                throw new FormatException($"bucket must be from 1s to {MaxBucket.TotalDays:0}d");
            if ((to - from) / bucket > StatsQueries.MaxBuckets)
                throw new FormatException($"from..to / bucket gives more than {StatsQueries.MaxBuckets} buckets; widen the bucket");
            return TypedResults.Ok(await stats.GetAsync(from, to, bucket, QueryParameters.IncludeSynthetic(request.Query), cancellationToken));
        }
        catch (FormatException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
        }
    }
}
