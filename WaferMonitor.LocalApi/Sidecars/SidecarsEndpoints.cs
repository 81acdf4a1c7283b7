using WaferMonitor.LocalApi.Storage;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Alerts;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Sidecars;

/// <summary>A Sidecar as operators see it: its last report, how long ago that was, and whether that is too long.</summary>
public sealed record SidecarView(
    string Node, string Version, string? Url, long SpoolEvents, long SpoolBytes, double? OldestSpooledAgeS, long DeadLetters,
    DateTimeOffset FirstHeardAt, DateTimeOffset LastHeardAt, double SilentForS, bool Silent);

public sealed record SidecarsView(IReadOnlyList<SidecarView> Items, int Count);

internal static partial class SidecarsEndpoints
{
    public static IEndpointRouteBuilder MapSidecarsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/sidecars").WithTags("Sidecars");
        group.MapPost("/heartbeat", ReceiveAsync).RequireIngest().WithSummary("A Sidecar's periodic report").ProducesProblem(400);
        group.MapGet("", ListAsync).RequireRead().WithSummary("The Sidecars that report to this site").Produces<SidecarsView>();
        return routes;
    }

    private static async Task<IResult> ReceiveAsync(SidecarHeartbeat heartbeat, [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(heartbeat.Node) || !NodeName().IsMatch(heartbeat.Node))
            return TypedResults.Problem("node must be 1–200 letters, digits, '.', '_', '-' or ':'", statusCode: 400, title: "Invalid heartbeat");
        if (heartbeat.Version is not { Length: > 0 and <= 100 } || heartbeat.Url is { Length: > 2000 } || heartbeat.SpoolEvents < 0
            || heartbeat.SpoolBytes < 0 || heartbeat.DeadLetters < 0 || heartbeat.OldestSpooledAgeS is < 0 or double.NaN or double.PositiveInfinity)
            return TypedResults.Problem("version, url or a count is out of range", statusCode: 400, title: "Invalid heartbeat");
        await using var command = dataSource.CreateCommand("""
            INSERT INTO sidecar_heartbeat (node, version, url, spool_events, spool_bytes, oldest_spooled_age_s, dead_letters, first_heard_at, last_heard_at)
            VALUES (@node, @version, @url, @events, @bytes, @age, @dead, @now, @now)
            ON CONFLICT (node) DO UPDATE SET version = EXCLUDED.version, url = EXCLUDED.url, spool_events = EXCLUDED.spool_events,
                spool_bytes = EXCLUDED.spool_bytes, oldest_spooled_age_s = EXCLUDED.oldest_spooled_age_s,
                dead_letters = EXCLUDED.dead_letters, last_heard_at = EXCLUDED.last_heard_at
            """);
        command.Parameters.AddWithValue("node", heartbeat.Node);
        command.Parameters.AddWithValue("version", heartbeat.Version);
        command.Parameters.AddWithValue("url", (object?)heartbeat.Url ?? DBNull.Value);
        command.Parameters.AddWithValue("events", heartbeat.SpoolEvents);
        command.Parameters.AddWithValue("bytes", heartbeat.SpoolBytes);
        command.Parameters.AddWithValue("age", (object?)heartbeat.OldestSpooledAgeS ?? DBNull.Value);
        command.Parameters.AddWithValue("dead", heartbeat.DeadLetters);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
        return TypedResults.Ok(new { ok = true });
    }

    private static async Task<IResult> ListAsync(NpgsqlDataSource dataSource, AlertRuleSet rules, TimeProvider clock, CancellationToken ct)
    {
        var silentAfter = rules.All.FirstOrDefault(r => r.Kind == AlertKinds.SidecarSilent)?.Threshold ?? 120;
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand("""
            SELECT node, version, url, spool_events, spool_bytes, oldest_spooled_age_s, dead_letters, first_heard_at, last_heard_at
            FROM sidecar_heartbeat ORDER BY node
            """);
        var items = new List<SidecarView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var last = reader.GetFieldValue<DateTimeOffset>(8);
            var silent = Math.Max(0, (now - last).TotalSeconds);
            items.Add(new SidecarView(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetDouble(5), reader.GetInt64(6), reader.GetFieldValue<DateTimeOffset>(7), last,
                silent, silent > silentAfter));
        }
        return TypedResults.Ok(new SidecarsView(items, items.Count));
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,200}$")]
    private static partial Regex NodeName();
}
