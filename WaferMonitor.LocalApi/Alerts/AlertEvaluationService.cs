using WaferMonitor.LocalApi.Storage;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>
/// Every <c>Alerts:EvaluationInterval</c>: evaluates the rules, moves each alert pending → firing → resolved and stores
/// the transitions in one transaction, then wakes the notifier. Runs apart from ingest, which it never waits for.
/// </summary>
internal sealed partial class AlertEvaluationService(
    [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, AlertRuleSet rules, AlertBook book, AlertsMetrics metrics, AlertLinks links, IOptions<AlertsOptions> options,
    IOptions<LocalApiOptions> localApi, BackgroundLoops loops, TimeProvider clock, ILogger<AlertEvaluationService> logger) : BackgroundService
{
    public const string LoopName = "alert_evaluation";

    private readonly AlertEvaluator evaluator = new(links, localApi.Value.SiteId, options.Value.MaxAlertsPerRule, logger);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
            return;
        using var timer = new PeriodicTimer(options.Value.EvaluationInterval.Value, clock);
        do
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await RoundAsync(clock.GetUtcNow(), stoppingToken);
                loops.Succeeded(LoopName);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                loops.Failed(LoopName, ex);
                LogRoundFailed(ex);
            }
            metrics.Evaluated(Stopwatch.GetElapsedTime(started));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task RoundAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            DatabaseUnreachable(ex.Message, now);
            return;
        }
        await using (connection)
        {
            try
            {
                if (!book.Loaded)
                    await book.LoadAsync(connection, cancellationToken);
                var result = await evaluator.EvaluateAsync(connection, rules.Enabled, now, cancellationToken);
                await ApplyAsync(connection, result, now, cancellationToken);
            }
            catch (NpgsqlException ex) when (IsConnectionLoss(ex))
            {
                DatabaseUnreachable(ex.Message, now);
            }
        }
    }

    private static bool IsConnectionLoss(NpgsqlException ex) =>
        ex is not PostgresException postgres || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
        || postgres.SqlState is "57P01" or "57P02" or "57P03" or "55000" or "3D000";

    /// <summary>Kept in memory only (there is nowhere to store it) and sent like any other alert.</summary>
    private void DatabaseUnreachable(string reason, DateTimeOffset now)
    {
        var rule = rules.Enabled.FirstOrDefault(r => r.Kind == AlertKinds.DatabaseUnreachable);
        if (rule is null)
            return;
        var candidate = evaluator.DatabaseUnreachable(rule, reason);
        var current = book.Open().FirstOrDefault(a => a.Fingerprint == candidate.Fingerprint);
        if (current is null)
        {
            var fired = rule.For <= TimeSpan.Zero;
            book.Apply([New(0, candidate, now, fired)], [], announce: fired);
        }
        else if (current.State == TrackedAlert.Pending && now - current.ActiveAt >= rule.For)
        {
            book.Apply([current with { State = TrackedAlert.Firing, FiredAt = now }], [], announce: true);
        }
        LogDatabaseUnreachable(reason);
    }

    private static TrackedAlert New(long id, AlertCandidate candidate, DateTimeOffset now, bool fired) => new(
        id, candidate.Fingerprint, candidate.Rule.Name, candidate.Rule.Severity, candidate.App, candidate.Labels, candidate.Annotations,
        fired ? TrackedAlert.Firing : TrackedAlert.Pending, now, fired ? now : null, null, null);

    private async Task ApplyAsync(NpgsqlConnection connection, EvaluationResult result, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = book.Open().ToDictionary(a => a.Fingerprint, StringComparer.Ordinal);
        var found = new Dictionary<string, AlertCandidate>(StringComparer.Ordinal);
        foreach (var candidate in result.Candidates)
            found.TryAdd(candidate.Fingerprint, candidate);

        var inserted = new List<AlertCandidate>();
        var fired = new List<TrackedAlert>();
        foreach (var (fingerprint, candidate) in found)
        {
            if (!current.TryGetValue(fingerprint, out var alert))
                inserted.Add(candidate);
            else if (alert.State == TrackedAlert.Pending && now - alert.ActiveAt >= candidate.Rule.For)
                fired.Add(alert with { State = TrackedAlert.Firing, FiredAt = now });
        }
        var ended = current.Values.Where(a => !found.ContainsKey(a.Fingerprint) && !result.FailedRules.Contains(a.Rule)).ToList();
        var resolved = ended.Where(a => a.State == TrackedAlert.Firing).Select(a => a with { State = TrackedAlert.Resolved, ResolvedAt = now }).ToList();
        var dropped = ended.Where(a => a.State == TrackedAlert.Pending).ToList();
        if (inserted.Count == 0 && fired.Count == 0 && ended.Count == 0)
        {
            metrics.Firing(book.FiringCounts());
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var opened = new List<TrackedAlert>(fired);
        if (inserted.Count > 0)
            opened.AddRange(await InsertAsync(connection, inserted.Select(c => New(0, c, now, c.Rule.For <= TimeSpan.Zero)).ToList(), cancellationToken));
        var closed = new List<TrackedAlert>(dropped);
        // The database_unreachable alert was never stored: its history row is written whole now that the database is back.
        closed.AddRange(await InsertAsync(connection, resolved.Where(a => a.Id == 0).ToList(), cancellationToken));
        closed.AddRange(resolved.Where(a => a.Id != 0));
        await ExecuteAsync(connection, "UPDATE alert SET state = 'firing', fired_at = @now WHERE alert_id = ANY(@ids)", now,
            fired.Select(a => a.Id), cancellationToken);
        await ExecuteAsync(connection, "UPDATE alert SET state = 'resolved', resolved_at = @now WHERE alert_id = ANY(@ids)", now,
            resolved.Where(a => a.Id != 0).Select(a => a.Id), cancellationToken);
        await ExecuteAsync(connection, "DELETE FROM alert WHERE alert_id = ANY(@ids)", now, dropped.Where(a => a.Id != 0).Select(a => a.Id), cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        book.Apply(opened, closed, announce: fired.Count > 0 || resolved.Count > 0 || opened.Any(a => a.State == TrackedAlert.Firing));
        metrics.Firing(book.FiringCounts());
        foreach (var alert in opened.Where(a => a.State == TrackedAlert.Firing))
            LogTransition(alert.Rule, alert.Fingerprint, alert.State, alert.Annotations.GetValueOrDefault("summary"));
        foreach (var alert in resolved)
            LogTransition(alert.Rule, alert.Fingerprint, alert.State, alert.Annotations.GetValueOrDefault("summary"));
    }

    private static async Task<List<TrackedAlert>> InsertAsync(NpgsqlConnection connection, List<TrackedAlert> alerts, CancellationToken cancellationToken)
    {
        if (alerts.Count == 0)
            return [];
        await using var command = new NpgsqlCommand("""
            INSERT INTO alert (fingerprint, rule, severity, app, labels, annotations, state, active_at, fired_at, resolved_at)
            SELECT f, r, s, a, l::jsonb, n::jsonb, st, ac, fi, re
            FROM unnest(@fingerprint, @rule, @severity, @app, @labels, @annotations, @state, @active_at, @fired_at, @resolved_at)
                AS u(f, r, s, a, l, n, st, ac, fi, re)
            RETURNING alert_id
            """, connection);
        command.Parameters.Add(Texts("fingerprint", alerts.Select(a => a.Fingerprint)));
        command.Parameters.Add(Texts("rule", alerts.Select(a => a.Rule)));
        command.Parameters.Add(Texts("severity", alerts.Select(a => a.Severity)));
        command.Parameters.Add(Texts("app", alerts.Select(a => a.App)));
        command.Parameters.Add(Texts("labels", alerts.Select(a => JsonSerializer.Serialize(a.Labels))));
        command.Parameters.Add(Texts("annotations", alerts.Select(a => JsonSerializer.Serialize(a.Annotations))));
        command.Parameters.Add(Texts("state", alerts.Select(a => a.State)));
        command.Parameters.Add(Times("active_at", alerts.Select(a => (DateTimeOffset?)a.ActiveAt)));
        command.Parameters.Add(Times("fired_at", alerts.Select(a => a.FiredAt)));
        command.Parameters.Add(Times("resolved_at", alerts.Select(a => a.ResolvedAt)));
        var ids = new List<long>(alerts.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ids.Add(reader.GetInt64(0));
        // INSERT … SELECT FROM unnest returns rows in input order.
        return [.. alerts.Zip(ids, (alert, id) => alert with { Id = id })];
    }

    private static NpgsqlParameter Texts(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

    private static NpgsqlParameter Times(string name, IEnumerable<DateTimeOffset?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = values.Select(v => v?.UtcDateTime).ToArray() };

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, DateTimeOffset now, IEnumerable<long> ids, CancellationToken cancellationToken)
    {
        var array = ids.ToArray();
        if (array.Length == 0)
            return;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("ids", array);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation round failed")]
    private partial void LogRoundFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The site database is unreachable: {Reason}")]
    private partial void LogDatabaseUnreachable(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Rule} {Fingerprint} {State}: {Summary}")]
    private partial void LogTransition(string rule, string fingerprint, string state, string? summary);
}
