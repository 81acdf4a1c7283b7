using WaferMonitor.LocalApi.Storage;
using WaferMonitor.ServiceDefaults.Security;
using System.Text.RegularExpressions;
using Npgsql;
using WaferMonitor.LocalApi.Queries;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Synthetic;

/// <summary>How the SLA describes the checks.</summary>
internal static class SyntheticApp
{
    public const string Description = "a canary job through Sidecar, spool, forwarder, LocalApi, database and query";
}

public sealed record SyntheticSummary(
    DateTimeOffset From, DateTimeOffset To, long Checks, long Failed, double? Availability, double? LatencyP50S, double? LatencyP95S,
    double? LatencyMaxS, IReadOnlyList<SyntheticCheckResult> Recent);

/// <summary>
/// <c>POST /v1/synthetic/results</c>: a Sidecar's canary results (stored once each, however often resent);
/// <c>GET /v1/synthetic</c>: the checks over a range, their pass rate and latency, and the most recent ones;
/// <c>GET /v1/synthetic/checks/{id}</c>: a canary job as the job query sees it, for the Sidecar's ingest key (which
/// cannot read other jobs).
/// </summary>
internal static partial class SyntheticEndpoints
{
    private const int MaxResults = 10_000;
    private const int RecentChecks = 50;

    /// <summary>A day: the SLA reads a day of checks before its window, so no longer interval can reach into it.</summary>
    public const double MaxIntervalS = 86_400;

    public static IEndpointRouteBuilder MapSyntheticEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/synthetic").WithTags("Synthetic checks");
        group.MapPost("/results", ReceiveAsync).RequireIngest().WithSummary("A Sidecar's synthetic check results").ProducesProblem(400);
        group.MapGet("/checks/{checkId:guid}", CheckAsync).RequireIngest().WithSummary("A canary job, as GET /v1/jobs/{id} shows it")
            .Produces<JobDetail>().ProducesProblem(404);
        group.MapGet("", SummaryAsync).RequireRead().WithSummary("Synthetic checks over a range: pass rate, latency, the latest ones")
            .Produces<SyntheticSummary>().ProducesProblem(400);
        return routes;
    }

    private static async Task<IResult> CheckAsync(Guid checkId, JobQueries queries, CancellationToken ct) =>
        await queries.GetJobAsync(checkId, ct) is { } detail && detail.Job.AppName == SyntheticChecks.CanaryApp
            ? TypedResults.Ok(detail)
            : TypedResults.Problem("no canary job with this id", statusCode: 404, title: "Not found");

    private static async Task<IResult> ReceiveAsync(SyntheticCheckResult[] results, [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, CancellationToken ct)
    {
        if (results.Length > MaxResults)
            return TypedResults.Problem($"at most {MaxResults} results at once", statusCode: 400, title: "Invalid synthetic results");
        if (results.Any(r => !NodeName().IsMatch(r.Node ?? "") || r.Error is { Length: > 2000 } || r.LatencyS is < 0 or double.NaN or double.PositiveInfinity
            || r.Health is { } health && !SyntheticHealth.IsKnown(health) || r.IntervalS is { } interval && !(interval is >= 0.001 and <= MaxIntervalS)))
            return TypedResults.Problem("node, error, latency_s, health or interval_s is out of range", statusCode: 400, title: "Invalid synthetic results");
        await using var command = dataSource.CreateCommand("""
            INSERT INTO synthetic_check (check_id, node, started_at, acked_at, visible_at, latency_s, ok, error, health, interval_s)
            SELECT * FROM unnest(@ids::uuid[], @nodes::text[], @started::timestamptz[], @acked::timestamptz[], @visible::timestamptz[],
                @latency::float8[], @ok::boolean[], @errors::text[], @health::text[], @interval::float8[])
            ON CONFLICT (check_id) DO NOTHING
            """);
        command.Parameters.AddWithValue("ids", results.Select(r => r.CheckId).ToArray());
        command.Parameters.AddWithValue("nodes", results.Select(r => r.Node).ToArray());
        command.Parameters.AddWithValue("started", results.Select(r => r.StartedAt).ToArray());
        command.Parameters.Add(new NpgsqlParameter("acked", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = results.Select(r => r.AckedAt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("visible", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = results.Select(r => r.VisibleAt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("latency", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Double) { Value = results.Select(r => r.LatencyS).ToArray() });
        command.Parameters.AddWithValue("ok", results.Select(r => r.Ok).ToArray());
        command.Parameters.Add(new NpgsqlParameter("errors", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = results.Select(r => r.Error).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("health", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = results.Select(r => r.Health).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("interval", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Double) { Value = results.Select(r => r.IntervalS).ToArray() });
        var stored = await command.ExecuteNonQueryAsync(ct);
        return TypedResults.Ok(new { ok = true, stored });
    }

    private static async Task<IResult> SummaryAsync(HttpRequest request, NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct)
    {
        DateTimeOffset from, to;
        try
        {
            to = QueryParameters.Time(request.Query, "to") ?? clock.GetUtcNow();
            from = QueryParameters.Time(request.Query, "from") ?? to - TimeSpan.FromHours(24);
            if (from >= to)
                throw new FormatException("from must be before to");
        }
        catch (FormatException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: 400, title: "Invalid query parameter");
        }
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    SELECT count(*), count(*) FILTER (WHERE NOT ok),
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_s), percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_s), max(latency_s)
                    FROM synthetic_check WHERE started_at >= @from AND started_at < @to
                    """) { Parameters = { new("from", from), new("to", to) } },
                new NpgsqlBatchCommand($"""
                    SELECT check_id, node, started_at, acked_at, visible_at, latency_s, ok, error, health, interval_s
                    FROM synthetic_check WHERE started_at >= @from AND started_at < @to ORDER BY started_at DESC LIMIT {RecentChecks}
                    """) { Parameters = { new("from", from), new("to", to) } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (checks, failed) = (reader.GetInt64(0), reader.GetInt64(1));
        double? Nullable(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
        var (p50, p95, max) = (Nullable(2), Nullable(3), Nullable(4));
        await reader.NextResultAsync(ct);
        var recent = new List<SyntheticCheckResult>();
        while (await reader.ReadAsync(ct))
        {
            recent.Add(new SyntheticCheckResult(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                Nullable(5), reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8), Nullable(9)));
        }
        return TypedResults.Ok(new SyntheticSummary(from, to, checks, failed, checks == 0 ? null : (double)(checks - failed) / checks, p50, p95, max, recent));
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,200}$")]
    private static partial Regex NodeName();
}
