using Npgsql;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>What one round found: the conditions, and the rules it could not evaluate (whose open alerts stay as they are).</summary>
internal sealed record EvaluationResult(List<AlertCandidate> Candidates, HashSet<string> FailedRules);

/// <summary>
/// Evaluates the rules against the site database. Every query reads through an index over a bounded part of the job
/// table — running jobs (<c>job_running_started</c>, <c>subjob_status_seq</c>), rows changed within a rule's window
/// (<c>job_updated_at</c>, <c>subjob_updated_at</c>), the newest jobs per app (<c>job_app_seq</c>) — never the whole of it.
/// </summary>
internal sealed partial class AlertEvaluator(AlertLinks links, string site, int maxPerRule, ILogger logger)
{
    /// <summary>One job or subjob a rule is about: the value it is judged by, and the identity its labels name.</summary>
    private sealed record EntityRow(string Entity, Guid Id, Guid JobId, string App, string? BusinessKey, string? SubKey, double Value);

    public async Task<EvaluationResult> EvaluateAsync(NpgsqlConnection connection, IEnumerable<AlertRule> rules, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var candidates = new List<AlertCandidate>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if (rule.Kind == AlertKinds.DatabaseUnreachable)
                continue;
            try
            {
                var found = await EvaluateRuleAsync(connection, rule, now, cancellationToken);
                candidates.AddRange(found.Take(maxPerRule));
            }
            catch (PostgresException ex) when (ex.SqlState is "2201B" or "22025" or "42601")
            {
                // A pattern PostgreSQL's regular expressions read differently from .NET's: that rule only.
                failed.Add(rule.Name);
                LogRuleFailed(logger, rule.Name, ex.MessageText);
            }
        }
        return new EvaluationResult(candidates, failed);
    }

    private Task<List<AlertCandidate>> EvaluateRuleAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct) =>
        rule.Kind switch
        {
            AlertKinds.RunningLongerThan => EntitiesAsync(connection, rule, now, ct, running: true, ended: false,
                valueSql: "EXTRACT(EPOCH FROM (@now - t.started_at))::float8", above: true),
            AlertKinds.SilentFor => EntitiesAsync(connection, rule, now, ct, running: true, ended: false,
                valueSql: "EXTRACT(EPOCH FROM (@now - t.last_event_at))::float8", above: true),
            AlertKinds.MetricAbove or AlertKinds.MetricBelow when !AlertRuleSet.ProjectedMetrics.Contains(rule.Metric) =>
                EntitiesAsync(connection, rule, now, ct, running: false, ended: true, valueSql: DecidingEventMetric, above: rule.Kind == AlertKinds.MetricAbove),
            AlertKinds.MetricAbove => EntitiesAsync(connection, rule, now, ct, running: true, ended: true, valueSql: $"t.{rule.Metric}", above: true),
            AlertKinds.MetricBelow => EntitiesAsync(connection, rule, now, ct, running: false, ended: true, valueSql: $"t.{rule.Metric}", above: false),
            AlertKinds.ErrorMatching => EntitiesAsync(connection, rule, now, ct, running: false, ended: true, valueSql: "0::float8", above: true),
            AlertKinds.FailureRate => FailureRateAsync(connection, rule, now, ct),
            AlertKinds.NoJobsReceived => NoJobsAsync(connection, rule, now, ct),
            AlertKinds.SpoolBacklog or AlertKinds.SidecarSilent => SidecarsAsync(connection, rule, now, ct),
            AlertKinds.NewErrorGroup or AlertKinds.RegressedErrorGroup => ErrorGroupsAsync(connection, rule, now, ct),
            _ => throw new InvalidOperationException($"rule kind {rule.Kind} has no evaluator"),
        };

    /// <summary>
    /// A metric the row does not keep, read from the event that decided the entity's status (its winner), found through
    /// <c>event_entity</c> by entity id and time.
    /// </summary>
    private const string DecidingEventMetric = """
        (SELECT (e.payload -> 'event' -> 'metrics' ->> @metric)::float8 FROM event e
         WHERE e.entity_id = t.{id} AND e.at = t.winner_at AND e.idempotency_key = t.winner_key LIMIT 1)
        """;

    /// <summary>
    /// Jobs and/or subjobs that are running (<paramref name="running"/>) or ended within the rule's window
    /// (<paramref name="ended"/>) whose value passes the lowest threshold any app has; each app's own threshold is applied
    /// after. Subjobs take their lot from their parent job.
    /// </summary>
    private async Task<List<AlertCandidate>> EntitiesAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct,
        bool running, bool ended, string valueSql, bool above)
    {
        var kindFilter = rule.Kind switch
        {
            AlertKinds.ErrorMatching => "t.status = 'failed' AND (t.metadata ->> 'error_type' ~* @pattern OR t.metadata ->> 'error' ~* @pattern)",
            _ => above ? $"{valueSql} > @threshold" : $"{valueSql} < @threshold",
        };
        var keyFilter = rule.BusinessKey is null ? "" : " AND lot.job_key ~ @business_key";
        var parts = new List<string>();
        foreach (var entity in rule.EntityType == "any" ? ["job", "subjob"] : new[] { rule.EntityType })
        {
            var (table, idColumn, jobIdColumn, lotJoin, subKey) = entity == "job"
                ? ("job", "t.job_id", "t.job_id", "CROSS JOIN LATERAL (SELECT t.job_key) lot", "NULL::text")
                : ("subjob", "t.subjob_id", "t.job_id", "LEFT JOIN job lot ON lot.job_id = t.job_id", "t.sub_key");
            var value = valueSql.Replace("{id}", $"{entity}_id", StringComparison.Ordinal);
            var filter = kindFilter.Replace("{id}", $"{entity}_id", StringComparison.Ordinal);
            var select = $"SELECT '{entity}', {idColumn}, {jobIdColumn}, t.app_name, lot.job_key, {subKey}, {value} FROM {table} t {lotJoin} WHERE";
            if (running)
                parts.Add($"({select} t.status = 'running' AND {filter}{keyFilter} LIMIT {maxPerRule + 1})");
            if (ended)
                parts.Add($"({select} t.updated_at >= @since AND t.ended_at >= @since AND {filter}{keyFilter} LIMIT {maxPerRule + 1})");
        }
        await using var command = new NpgsqlCommand(string.Join(" UNION ", parts), connection);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("since", now - rule.Window);
        command.Parameters.AddWithValue("threshold", (above ? rule.LowestThreshold : rule.HighestThreshold) ?? 0);
        if (rule.Pattern is not null)
            command.Parameters.AddWithValue("pattern", rule.Pattern);
        if (rule.Metric is not null)
            command.Parameters.AddWithValue("metric", rule.Metric);
        if (rule.BusinessKey is not null)
            command.Parameters.AddWithValue("business_key", rule.BusinessKey);
        var candidates = new List<AlertCandidate>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new EntityRow(reader.GetString(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? 0 : reader.GetDouble(6));
            if (!rule.MatchesApp(row.App))
                continue;
            var threshold = rule.ThresholdFor(row.App) ?? 0;
            if (rule.Kind != AlertKinds.ErrorMatching && (above ? row.Value <= threshold : row.Value >= threshold))
                continue;
            candidates.Add(ForEntity(rule, row, threshold));
        }
        return candidates;
    }

    private AlertCandidate ForEntity(AlertRule rule, EntityRow row, double threshold)
    {
        var labels = Labels(rule, row.App);
        labels["job_id"] = row.JobId.ToString();
        if (row.BusinessKey is not null)
            labels["business_key"] = row.BusinessKey;
        if (row.Entity == "subjob")
        {
            labels["subjob"] = row.Id.ToString();
            if (row.SubKey is not null)
                labels["sub_key"] = row.SubKey;
        }
        var value = AlertKinds.ThresholdIsDuration(rule.Kind) ? AlertText.Duration(TimeSpan.FromSeconds(row.Value)) : AlertText.Number(row.Value);
        return Candidate(rule, labels, value, threshold, links.Job(row.JobId),
            new() { ["entity"] = row.Entity, ["business_key"] = row.BusinessKey ?? row.JobId.ToString(), ["sub_key"] = row.SubKey ?? "" });
    }

    private async Task<List<AlertCandidate>> FailureRateAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var keyFilter = rule.BusinessKey is null ? "" : " AND lot.job_key ~ @business_key";
        var parts = (rule.EntityType == "any" ? ["job", "subjob"] : new[] { rule.EntityType }).Select(entity => entity == "job"
            ? $"SELECT t.app_name, t.status FROM job t CROSS JOIN LATERAL (SELECT t.job_key) lot WHERE t.updated_at >= @since AND t.ended_at >= @since{keyFilter}"
            : $"SELECT t.app_name, t.status FROM subjob t LEFT JOIN job lot ON lot.job_id = t.job_id WHERE t.updated_at >= @since AND t.ended_at >= @since{keyFilter}");
        await using var command = new NpgsqlCommand($"""
            SELECT app_name, count(*), count(*) FILTER (WHERE status = 'failed')
            FROM ({string.Join(" UNION ALL ", parts)}) ended GROUP BY app_name
            """, connection);
        command.Parameters.AddWithValue("since", now - rule.Window);
        if (rule.BusinessKey is not null)
            command.Parameters.AddWithValue("business_key", rule.BusinessKey);
        var candidates = new List<AlertCandidate>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var (app, total, failed) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
            var threshold = rule.ThresholdFor(app) ?? 0;
            if (!rule.MatchesApp(app) || total < rule.MinJobs || (double)failed / total <= threshold)
                continue;
            candidates.Add(Candidate(rule, Labels(rule, app), rule.FormatThreshold((double)failed / total), threshold, links.Jobs(app),
                new() { ["count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture), ["window"] = AlertText.Duration(rule.Window) }));
        }
        return candidates;
    }

    /// <summary>
    /// Per app, the times its newest jobs were first stored, by skipping through <c>job_app_seq</c> (one probe per app).
    /// Without a configured threshold an app is expected to start a job within three times its longest recent gap
    /// (at least <see cref="LearnedFloor"/>), once it has <c>MinJobs</c> jobs to learn from.
    /// </summary>
    private async Task<List<AlertCandidate>> NoJobsAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            WITH RECURSIVE names(app_name) AS (
                (SELECT app_name FROM job ORDER BY app_name LIMIT 1)
                UNION ALL
                SELECT (SELECT t.app_name FROM job t WHERE t.app_name > n.app_name ORDER BY t.app_name LIMIT 1)
                FROM names n WHERE n.app_name IS NOT NULL)
            SELECT n.app_name, recent.stored
            FROM names n CROSS JOIN LATERAL (
                SELECT array_agg(first_stored_at ORDER BY store_seq DESC) AS stored
                FROM (SELECT first_stored_at, store_seq FROM job WHERE app_name = n.app_name ORDER BY store_seq DESC LIMIT {LearnFrom}) newest) recent
            WHERE n.app_name IS NOT NULL
            """, connection);
        var candidates = new List<AlertCandidate>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var app = reader.GetString(0);
            var stored = reader.GetFieldValue<DateTime[]>(1);
            if (!rule.MatchesApp(app) || stored.Length == 0)
                continue;
            var silent = now - new DateTimeOffset(stored[0], TimeSpan.Zero);
            double expected;
            if (rule.ThresholdFor(app) is { } configured)
                expected = configured;
            else if (stored.Length >= Math.Max(2, rule.MinJobs))
                expected = Math.Max(LearnedFloor.TotalSeconds, 3 * stored.Zip(stored.Skip(1), (newer, older) => (newer - older).TotalSeconds).Max());
            else
                continue;
            if (silent.TotalSeconds <= expected)
                continue;
            candidates.Add(Candidate(rule, Labels(rule, app), AlertText.Duration(silent), expected, links.Jobs(app), []));
        }
        return candidates;
    }

    private const int LearnFrom = 20;
    public static readonly TimeSpan LearnedFloor = TimeSpan.FromMinutes(30);

    private async Task<List<AlertCandidate>> SidecarsAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(rule.Kind == AlertKinds.SidecarSilent
            ? "SELECT node, EXTRACT(EPOCH FROM (@now - last_heard_at))::float8 FROM sidecar_heartbeat WHERE last_heard_at < @now - make_interval(secs => @threshold)"
            : "SELECT node, spool_events::float8 FROM sidecar_heartbeat WHERE spool_events > @threshold", connection);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("threshold", rule.Threshold ?? 0);
        var candidates = new List<AlertCandidate>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var node = reader.GetString(0);
            var labels = Labels(rule, app: null);
            labels["node"] = node;
            var value = rule.Kind == AlertKinds.SidecarSilent ? AlertText.Duration(TimeSpan.FromSeconds(reader.GetDouble(1))) : AlertText.Number(reader.GetDouble(1));
            candidates.Add(Candidate(rule, labels, value, rule.Threshold ?? 0, links.Sidecars(), new() { ["node"] = node }));
        }
        return candidates;
    }

    /// <summary>
    /// Error groups (docs/errors.md) seen within the rule's window for the first time (new_error_group), or again after
    /// at least the threshold without an occurrence (regressed_error_group); one alert per group, labelled by fingerprint.
    /// The synthetic checks' app is left out.
    /// </summary>
    private async Task<List<AlertCandidate>> ErrorGroupsAsync(NpgsqlConnection connection, AlertRule rule, DateTimeOffset now, CancellationToken ct)
    {
        var condition = rule.Kind == AlertKinds.NewErrorGroup
            ? "before.at IS NULL"
            : "before.at IS NOT NULL AND g.first_in - before.at >= make_interval(secs => @quiet)";
        await using var command = new NpgsqlCommand($"""
            SELECT g.fingerprint, g.title, g.app_name, g.n, EXTRACT(EPOCH FROM g.first_in - before.at)::float8
            FROM (
                SELECT fingerprint, count(*) AS n, min(at) AS first_in,
                       (array_agg(title ORDER BY at DESC))[1] AS title, (array_agg(app_name ORDER BY at DESC))[1] AS app_name
                FROM error_occurrence WHERE at >= @since AND at <= @now AND app_name <> @canary GROUP BY fingerprint) g
            CROSS JOIN LATERAL (SELECT max(o.at) AS at FROM error_occurrence o WHERE o.fingerprint = g.fingerprint AND o.at < g.first_in) before
            WHERE {condition}
            ORDER BY g.first_in LIMIT {maxPerRule + 1}
            """, connection);
        command.Parameters.AddWithValue("since", now - rule.Window);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("quiet", rule.Threshold ?? AlertRuleSet.DefaultRegressionQuiet.TotalSeconds);
        command.Parameters.AddWithValue("canary", WaferMonitor.Sdk.Contracts.SyntheticChecks.CanaryApp);
        var candidates = new List<AlertCandidate>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var (fingerprint, title, app, count) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3));
            if (!rule.MatchesApp(app))
                continue;
            var labels = Labels(rule, app);
            labels["fingerprint"] = fingerprint;
            var value = reader.IsDBNull(4) ? "" : AlertText.Duration(TimeSpan.FromSeconds(reader.GetDouble(4)));
            candidates.Add(Candidate(rule, labels, value, rule.Threshold ?? 0, links.ErrorGroup(fingerprint), new()
            {
                ["title"] = title,
                ["fingerprint"] = fingerprint,
                ["count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }));
        }
        return candidates;
    }

    /// <summary>The alert for a database this LocalApi cannot reach, built without asking it anything.</summary>
    public AlertCandidate DatabaseUnreachable(AlertRule rule, string reason) =>
        Candidate(rule, Labels(rule, app: null), reason, 0, links.Health(), []);

    private SortedDictionary<string, string> Labels(AlertRule rule, string? app)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in rule.Labels)
            labels[name] = value;
        labels["alertname"] = rule.Name;
        labels["severity"] = rule.Severity;
        labels["site"] = site;
        if (app is not null)
            labels["app"] = app;
        return labels;
    }

    private AlertCandidate Candidate(AlertRule rule, SortedDictionary<string, string> labels, string value, double threshold, string link,
        Dictionary<string, string> extra)
    {
        var values = new Dictionary<string, string>(extra, StringComparer.Ordinal)
        {
            ["app"] = labels.GetValueOrDefault("app", ""),
            ["site"] = site,
            ["job_id"] = labels.GetValueOrDefault("job_id", ""),
            ["value"] = value,
            ["threshold"] = rule.FormatThreshold(threshold),
        };
        values.TryAdd("business_key", labels.GetValueOrDefault("business_key", ""));
        values.TryAdd("sub_key", labels.GetValueOrDefault("sub_key", ""));
        values.TryAdd("entity", "");
        values.TryAdd("window", AlertText.Duration(rule.Window));
        return new AlertCandidate(rule, labels, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["summary"] = AlertText.Render(rule.Summary, values),
            ["link"] = link,
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert rule {Rule} could not be evaluated: {Reason}")]
    private static partial void LogRuleFailed(ILogger logger, string rule, string reason);
}
