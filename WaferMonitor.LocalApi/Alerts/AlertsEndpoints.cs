using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Queries;
using WaferMonitor.ServiceDefaults.Compatibility;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>
/// An alert episode as <c>GET /v1/alerts</c> returns it. <c>StoredAt</c> and <c>Cursor</c> let CentralApi merge sites'
/// pages the way it merges job listings.
/// </summary>
public sealed record AlertItem(
    long AlertId, string Fingerprint, string Rule, string State, string Severity, string SiteId, string? App,
    IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations, DateTimeOffset ActiveAt,
    DateTimeOffset? FiredAt, DateTimeOffset? ResolvedAt, DateTimeOffset? LastNotifiedAt, DateTimeOffset StoredAt, string Cursor);

/// <summary>A rule as in effect: its defaults merged with <c>Alerts:Rules</c> and per-app thresholds from <c>Alerts:Apps</c>.</summary>
public sealed record AlertRuleView(
    string Name, string Kind, bool Default, bool Enabled, string Severity, string For, string Threshold, string Window, int MinJobs,
    string? Metric, string? App, string? BusinessKey, string EntityType, string? Pattern, IReadOnlyDictionary<string, string> Labels,
    string Summary, IReadOnlyDictionary<string, string> AppThresholds);

public sealed record AlertRulesView(IReadOnlyList<AlertRuleView> Rules, bool Enabled, string EvaluationInterval, string Cooldown,
    IReadOnlyList<string> AlertmanagerUrls);

internal static class AlertsEndpoints
{
    public static IEndpointRouteBuilder MapAlertsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("Alerts").RequireRead();
        group.MapGet("/alerts", ListAlerts)
            .WithSummary("Alerts of this site, active and past, newest first (state, severity, rule, app, from, to, limit, cursor)")
            .Produces<Page<AlertItem>>().ProducesProblem(400);
        group.MapGet("/alert-rules", (AlertRuleSet rules, IOptions<AlertsOptions> options) => TypedResults.Ok(new AlertRulesView(
                [.. rules.All.Select(View)], options.Value.Enabled, options.Value.EvaluationInterval.ToString(), options.Value.Cooldown.ToString(),
                options.Value.AlertmanagerUrls)))
            .WithSummary("The alert rules in effect");
        return routes;
    }

    private static AlertRuleView View(AlertRule r) => new(
        r.Name, r.Kind, r.IsDefault, r.Enabled, r.Severity, AlertText.Duration(r.For), r.FormatThreshold(r.Threshold), AlertText.Duration(r.Window),
        r.MinJobs, r.Metric, r.App, r.BusinessKey, r.EntityType, r.Pattern, r.Labels, r.Summary,
        r.AppThresholds.ToDictionary(t => t.Glob, t => r.FormatThreshold(t.Value), StringComparer.Ordinal));

    private static async Task<IResult> ListAlerts(
        HttpRequest request, NpgsqlDataSource dataSource, IOptions<LocalApiOptions> localApi, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var conditions = new List<string>();
        await using var command = dataSource.CreateCommand();
        int limit;
        try
        {
            var query = request.Query;
            AddList(query, "state", TrackedAlert.States, "state", conditions, command);
            AddList(query, "severity", AlertSeverities.All, "severity", conditions, command);
            AddList(query, "rule", null, "rule", conditions, command);
            if (QueryParameters.Text(query, "app") is { } app)
            {
                conditions.Add("app = @app");
                command.Parameters.AddWithValue("app", app);
            }
            if (QueryParameters.Time(query, "from") is { } from)
            {
                conditions.Add("active_at >= @from");
                command.Parameters.AddWithValue("from", from);
            }
            if (QueryParameters.Time(query, "to") is { } to)
            {
                conditions.Add("active_at < @to");
                command.Parameters.AddWithValue("to", to);
            }
            if (Cursor.Decode(QueryParameters.Text(query, "cursor")) is { } before)
            {
                conditions.Add("alert_id < @before");
                command.Parameters.AddWithValue("before", before);
            }
            var (parsed, error) = ListQuery.Parse(new QueryCollection(query.Where(q => q.Key == "limit").ToDictionary(q => q.Key, q => q.Value)));
            limit = parsed?.Limit ?? throw new FormatException(error);
        }
        catch (FormatException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query parameter");
        }
        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        command.CommandText = $"SELECT {AlertBook.Columns}, created_at FROM alert {where} ORDER BY alert_id DESC LIMIT {limit + 1}";
        var site = localApi.Value.SiteId;
        var items = new List<AlertItem>();
        var more = false;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (items.Count == limit)
                {
                    more = true;
                    break;
                }
                var a = AlertBook.Read(reader);
                items.Add(new AlertItem(a.Id, a.Fingerprint, a.Rule, a.State, a.Severity, site, a.App, a.Labels, a.Annotations, a.ActiveAt,
                    a.FiredAt, a.ResolvedAt, a.LastNotifiedAt, reader.GetFieldValue<DateTimeOffset>(12), Cursor.Encode(a.Id)));
            }
        }
        var next = more ? items[^1].Cursor : null;
        return TypedResults.Ok(new Page<AlertItem>(items, items.Count, next) { DurationS = DurationField.Since(started) });
    }

    /// <summary>A comma list filter; with <paramref name="allowed"/>, each value must be one of them.</summary>
    private static void AddList(IQueryCollection query, string name, string[]? allowed, string column, List<string> conditions, NpgsqlCommand command)
    {
        if (QueryParameters.Text(query, name) is not { } text)
            return;
        var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var value in values)
        {
            if (allowed is not null && !allowed.Contains(value))
                throw new FormatException($"{name} '{value}' is not one of {string.Join(", ", allowed)}");
        }
        conditions.Add($"{column} = ANY(@{name})");
        command.Parameters.AddWithValue(name, values);
    }
}
