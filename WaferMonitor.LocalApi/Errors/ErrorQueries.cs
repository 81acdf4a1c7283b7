using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Queries;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Errors;

/// <summary>Error groups derived from <c>error_occurrence</c> over a range, and one group's occurrences.</summary>
internal sealed class ErrorQueries(NpgsqlDataSource dataSource, IOptions<ErrorsOptions> options)
{
    private const int Examples = 5;

    public async Task<ErrorGroupList> ListAsync(ErrorQuery query, CancellationToken cancellationToken)
    {
        var filters = Filters(query.App, query.IncludeSynthetic);
        var hourStart = new DateTimeOffset(query.From.UtcTicks - query.From.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var hours = (int)Math.Ceiling((query.To - hourStart) / TimeSpan.FromHours(1));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            WITH hits AS MATERIALIZED (
                SELECT fingerprint, at, title, app_name, error_type, site_id, entity_type, entity_id, job_id, job_key, sub_key
                FROM error_occurrence WHERE at >= @from AND at < @to{filters}
            ), groups AS (
                SELECT fingerprint, count(*) AS n, min(at) AS first_in, max(at) AS last_in,
                       (array_agg(title ORDER BY at DESC))[1] AS title, (array_agg(app_name ORDER BY at DESC))[1] AS app_name,
                       (array_agg(error_type ORDER BY at DESC))[1] AS error_type,
                       count(DISTINCT job_id) AS lots, count(DISTINCT entity_id) FILTER (WHERE entity_type = 'subjob') AS wafers,
                       max(gap) AS longest_gap
                FROM (SELECT *, at - lag(at) OVER (PARTITION BY fingerprint ORDER BY at) AS gap FROM hits) h
                GROUP BY fingerprint
            )
            SELECT g.fingerprint, g.title, g.app_name, g.error_type, g.n, first.seen, g.last_in,
                   EXTRACT(EPOCH FROM g.first_in - before.at)::float8, EXTRACT(EPOCH FROM g.longest_gap)::float8,
                   g.lots, g.wafers, COALESCE(lots.examples, ARRAY[]::text[]), COALESCE(wafers.examples, ARRAY[]::text[]), sites.names, sites.counts
            FROM groups g
            CROSS JOIN LATERAL (SELECT min(o.at) AS seen FROM error_occurrence o WHERE o.fingerprint = g.fingerprint) first
            CROSS JOIN LATERAL (SELECT max(o.at) AS at FROM error_occurrence o WHERE o.fingerprint = g.fingerprint AND o.at < @from) before
            CROSS JOIN LATERAL (
                SELECT array_agg(k ORDER BY k) AS examples FROM (
                    SELECT DISTINCT COALESCE(h.job_key, j.job_key, h.job_id::text) AS k
                    FROM hits h LEFT JOIN job j ON j.job_id = h.job_id WHERE h.fingerprint = g.fingerprint ORDER BY 1 LIMIT {Examples}) e) lots
            CROSS JOIN LATERAL (
                SELECT array_agg(k ORDER BY k) AS examples FROM (
                    SELECT DISTINCT COALESCE(h.sub_key, h.entity_id::text) AS k
                    FROM hits h WHERE h.fingerprint = g.fingerprint AND h.entity_type = 'subjob' ORDER BY 1 LIMIT {Examples}) e) wafers
            CROSS JOIN LATERAL (
                SELECT array_agg(site_id ORDER BY site_id) AS names, array_agg(n ORDER BY site_id) AS counts
                FROM (SELECT site_id, count(*) AS n FROM hits h WHERE h.fingerprint = g.fingerprint GROUP BY site_id) s) sites
            ORDER BY g.n DESC, g.last_in DESC, g.fingerprint
            """) { Parameters = { new("from", query.From), new("to", query.To), new("app", (object?)query.App ?? DBNull.Value), new("canary", SyntheticChecks.CanaryApp) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            SELECT fingerprint, floor(EXTRACT(EPOCH FROM at - @hour_start) / 3600)::int, count(*)
            FROM error_occurrence WHERE at >= @from AND at < @to{filters}
            GROUP BY 1, 2
            """) { Parameters = { new("from", query.From), new("to", query.To), new("hour_start", hourStart), new("app", (object?)query.App ?? DBNull.Value), new("canary", SyntheticChecks.CanaryApp) } });
        var quiet = options.Value.RegressionAfter.Value.TotalSeconds;
        var rows = new List<(ErrorGroup Group, long[] Hourly)>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var firstSeen = reader.GetFieldValue<DateTimeOffset>(5);
            var isNew = firstSeen >= query.From;
            var regressed = !isNew
                && ((!reader.IsDBNull(7) && reader.GetDouble(7) >= quiet) || (!reader.IsDBNull(8) && reader.GetDouble(8) >= quiet));
            var hourly = new long[hours];
            var sites = reader.GetFieldValue<string[]>(13).Zip(reader.GetFieldValue<long[]>(14))
                .ToDictionary(s => s.First, s => s.Second, StringComparer.Ordinal);
            rows.Add((new ErrorGroup(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetInt64(4), firstSeen, reader.GetFieldValue<DateTimeOffset>(6), isNew, regressed, ErrorGroupStatuses.Of(isNew, regressed),
                new HourlyCounts(hourStart, hourly), new Affected(reader.GetInt64(9), reader.GetFieldValue<string[]>(11)),
                new Affected(reader.GetInt64(10), reader.GetFieldValue<string[]>(12)), sites), hourly));
        }
        await reader.NextResultAsync(cancellationToken);
        var byFingerprint = rows.ToDictionary(r => r.Group.Fingerprint, r => r.Hourly, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (byFingerprint.TryGetValue(reader.GetString(0), out var hourly) && reader.GetInt32(1) is var hour && hour >= 0 && hour < hourly.Length)
                hourly[hour] = reader.GetInt64(2);
        }
        var items = rows.Select(r => r.Group)
            .Where(g => query.Statuses.Count == 0 || query.Statuses.Contains(g.Status))
            .Take(query.Limit)
            .ToList();
        return new ErrorGroupList(query.From, query.To, items, items.Count);
    }

    /// <summary>A group's occurrences, newest stored first, keyset-paged like <c>/v1/jobs</c>.</summary>
    public async Task<Page<ErrorOccurrenceItem>> OccurrencesAsync(
        string fingerprint, DateTimeOffset? from, DateTimeOffset? to, int limit, long? before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        var clauses = new List<string> { "o.fingerprint = @fingerprint" };
        command.Parameters.AddWithValue("fingerprint", fingerprint);
        if (from is { } f)
        {
            clauses.Add("o.at >= @from");
            command.Parameters.AddWithValue("from", f);
        }
        if (to is { } t)
        {
            clauses.Add("o.at < @to");
            command.Parameters.AddWithValue("to", t);
        }
        if (before is { } b)
        {
            clauses.Add("o.occurrence_seq < @before");
            command.Parameters.AddWithValue("before", b);
        }
        command.CommandText = $"""
            SELECT o.occurrence_seq, o.fingerprint, o.title, o.error_type, o.message, o.site_id, o.app_name, o.at, o.entity_type,
                   o.entity_id, o.job_id, COALESCE(o.job_key, j.job_key), o.sub_key, o.stored_at
            FROM error_occurrence o LEFT JOIN job j ON j.job_id = o.job_id
            WHERE {string.Join(" AND ", clauses)}
            ORDER BY o.occurrence_seq DESC LIMIT {limit + 1}
            """;
        var items = new List<ErrorOccurrenceItem>();
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == limit)
            {
                more = true;
                break;
            }
            items.Add(new ErrorOccurrenceItem(reader.GetString(1), reader.GetString(2), NullableString(reader, 3), NullableString(reader, 4),
                reader.GetString(5), reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8), reader.GetGuid(9),
                reader.GetGuid(10), NullableString(reader, 11), NullableString(reader, 12), reader.GetFieldValue<DateTimeOffset>(13),
                Cursor.Encode(reader.GetInt64(0))));
        }
        return new Page<ErrorOccurrenceItem>(items, items.Count, more ? items[^1].Cursor : null);
    }

    private static string Filters(string? app, bool includeSynthetic) =>
        (app is null ? "" : " AND app_name = @app") + (includeSynthetic ? "" : " AND app_name <> @canary");

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
