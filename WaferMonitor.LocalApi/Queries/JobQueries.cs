using System.Text;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Queries;

/// <summary>Read-side SQL. Paging is keyset over <c>store_seq</c> (newest stored first), never OFFSET.</summary>
internal sealed class JobQueries(NpgsqlDataSource dataSource)
{
    private const int MaxDetailEvents = 10_000;

    private const string SubjobCountsJoin = """
        LEFT JOIN LATERAL (
            SELECT count(*)::int AS total,
                   count(*) FILTER (WHERE s.status = 'running')::int AS running,
                   count(*) FILTER (WHERE s.status = 'succeeded')::int AS succeeded,
                   count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
                   count(*) FILTER (WHERE s.status = 'canceled')::int AS canceled
            FROM subjob s WHERE s.job_id = j.job_id) c ON true
        """;

    private const string JobColumns = """
        j.store_seq, j.job_id, j.site_id, j.app_id, j.app_name, j.app_version, j.job_key, j.status, j.started_at, j.ended_at,
        j.duration_s, j.cpu_user_s, j.cpu_system_s, j.mem_max_mb, j.metadata::text, j.last_event_at,
        c.total, c.running, c.succeeded, c.failed, c.canceled, j.first_stored_at
        """;

    private const string SubjobColumns = """
        j.store_seq, j.subjob_id, j.job_id, j.site_id, j.app_id, j.app_name, j.app_version, j.sub_key, j.status, j.started_at, j.ended_at,
        j.duration_s, j.cpu_user_s, j.cpu_system_s, j.mem_max_mb, j.metadata::text, j.last_event_at, j.first_stored_at
        """;

    /// <summary>
    /// Above this many app names matching an <c>app_name</c> filter, one branch per name costs more than walking the rows
    /// newest first with the pattern: a pattern that broad finds a page of matches quickly anyway.
    /// </summary>
    private const int MaxNameBranches = 16;

    public async Task<Page<JobItem>> ListJobsAsync(ListQuery query, CancellationToken cancellationToken)
    {
        var appNames = await MatchingAppNamesAsync("job", query.AppName, cancellationToken);
        if (appNames is [])
            return new Page<JobItem>([], 0, null);
        await using var command = dataSource.CreateCommand();
        var page = PageOf("job", query, appNames, command, keyColumn: "job_key", includeJobId: false);
        // Subjob counts are computed for the page only, after the limit.
        command.CommandText = $"SELECT {JobColumns} FROM ({page}) j {SubjobCountsJoin} ORDER BY j.store_seq DESC";
        return await PageAsync(command, query.Limit, ReadJob, cancellationToken);
    }

    public async Task<Page<SubjobItem>> ListSubjobsAsync(ListQuery query, CancellationToken cancellationToken)
    {
        var appNames = await MatchingAppNamesAsync("subjob", query.AppName, cancellationToken);
        if (appNames is [])
            return new Page<SubjobItem>([], 0, null);
        await using var command = dataSource.CreateCommand();
        command.CommandText = $"SELECT {SubjobColumns} FROM ({PageOf("subjob", query, appNames, command, keyColumn: null, includeJobId: true)}) j ORDER BY j.store_seq DESC";
        return await PageAsync(command, query.Limit, ReadSubjob, cancellationToken);
    }

    public async Task<JobDetail?> GetJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SELECT {JobColumns} FROM job j {SubjobCountsJoin} WHERE j.job_id = @id") { Parameters = { new("id", jobId) } },
                new NpgsqlBatchCommand($"SELECT {SubjobColumns} FROM subjob j WHERE j.job_id = @id ORDER BY j.store_seq") { Parameters = { new("id", jobId) } },
                new NpgsqlBatchCommand($"""
                    SELECT payload::text FROM (
                        SELECT payload, at, seq FROM event WHERE entity_id = @id ORDER BY at DESC, seq DESC LIMIT {MaxDetailEvents}) recent
                    ORDER BY at, seq
                    """) { Parameters = { new("id", jobId) } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var job = ReadJob(reader);
        await reader.NextResultAsync(cancellationToken);
        var subjobs = new List<SubjobItem>();
        while (await reader.ReadAsync(cancellationToken))
            subjobs.Add(ReadSubjob(reader));
        await reader.NextResultAsync(cancellationToken);
        var events = new List<JsonElement>();
        while (await reader.ReadAsync(cancellationToken))
            events.Add(JsonElement.Parse(reader.GetString(0)));
        return new JobDetail(job, subjobs, events);
    }

    /// <summary>
    /// The table's distinct app names that contain <paramref name="pattern"/> (case-insensitive), read by skipping
    /// through the <c>(app_name, store_seq)</c> index — one probe per distinct name, however many rows. Null when there
    /// is no pattern, or when so many names match that the filter is applied row by row instead.
    /// </summary>
    private async Task<List<string>?> MatchingAppNamesAsync(string table, string? pattern, CancellationToken cancellationToken)
    {
        if (pattern is null)
            return null;
        await using var command = dataSource.CreateCommand($"""
            WITH RECURSIVE names(app_name) AS (
                (SELECT app_name FROM {table} ORDER BY app_name LIMIT 1)
                UNION ALL
                SELECT (SELECT t.app_name FROM {table} t WHERE t.app_name > n.app_name ORDER BY t.app_name LIMIT 1)
                FROM names n WHERE n.app_name IS NOT NULL)
            SELECT app_name FROM names WHERE app_name ILIKE @pattern ESCAPE '\' LIMIT {MaxNameBranches + 1}
            """);
        command.Parameters.AddWithValue("pattern", "%" + EscapeLike(pattern) + "%");
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            names.Add(reader.GetString(0));
        return names.Count > MaxNameBranches ? null : names;
    }

    /// <summary>
    /// The rows of one page (limit + 1, newest stored first). Each status gets its own ordered, limited branch: with
    /// <c>status = ANY(…)</c> PostgreSQL cannot walk the <c>(status, store_seq)</c> index in order and would sort every
    /// matching row, while ordered branches merge and stop after a page. App names resolved from an <c>app_name</c>
    /// filter get branches the same way, over the <c>(app_name, store_seq)</c> index.
    /// </summary>
    private static string PageOf(
        string table, ListQuery query, IReadOnlyList<string>? appNames, NpgsqlCommand command, string? keyColumn, bool includeJobId)
    {
        var clauses = new List<string>();
        void Add(string clause, string name, object value)
        {
            clauses.Add(clause);
            command.Parameters.AddWithValue(name, value);
        }
        if (query.From is { } from)
            Add("j.started_at >= @from", "from", from);
        if (query.To is { } to)
            Add("j.started_at < @to", "to", to);
        if (appNames is null && query.AppName is { } appName)
            Add("j.app_name ILIKE @app_name ESCAPE '\\'", "app_name", "%" + EscapeLike(appName) + "%");
        if (keyColumn is not null && query.BusinessKey is { } key)
            Add($"j.{keyColumn} = @business_key", "business_key", key);
        if (includeJobId && query.JobId is { } jobId)
            Add("j.job_id = @job_id", "job_id", jobId);
        if (query.Before is { } before)
            Add("j.store_seq < @before", "before", before);
        if (!query.IncludeSynthetic)
            Add("j.app_name <> @synthetic", "synthetic", SyntheticChecks.CanaryApp);
        var limit = query.Limit + 1;
        string Branch(string? statusClause)
        {
            var all = statusClause is null ? clauses : [.. clauses, statusClause];
            var where = all.Count == 0 ? "" : "WHERE " + string.Join(" AND ", all);
            return $"SELECT * FROM {table} j {where} ORDER BY j.store_seq DESC LIMIT {limit}";
        }
        var statusClauses = query.Statuses.Select((status, i) =>
        {
            command.Parameters.AddWithValue($"status{i}", status);
            return $"j.status = @status{i}";
        }).ToList();
        var nameClauses = (appNames ?? []).Select((name, i) =>
        {
            command.Parameters.AddWithValue($"app{i}", name);
            return $"j.app_name = @app{i}";
        }).ToList();
        if (statusClauses.Count == 0 && nameClauses.Count == 0)
            return Branch(null);
        // Status branches within each name's, when both filter.
        var branches = nameClauses.Count == 0 ? statusClauses
            : statusClauses.Count == 0 ? nameClauses
            : nameClauses.SelectMany(name => statusClauses.Select(status => $"{name} AND {status}")).ToList();
        if (branches.Count == 1)
            return Branch(branches[0]);
        return $"SELECT * FROM ({string.Join(" UNION ALL ", branches.Select(b => $"({Branch(b)})"))}) s ORDER BY store_seq DESC LIMIT {limit}";
    }

    private static string EscapeLike(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '%' or '_' or '\\')
                escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    private static async Task<Page<T>> PageAsync<T>(
        NpgsqlCommand command, int limit, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        var items = new List<T>(Math.Min(limit, 1024));
        long lastSeq = 0;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == limit)
            {
                more = true;
                break;
            }
            lastSeq = reader.GetInt64(0);
            items.Add(read(reader));
        }
        return new Page<T>(items, items.Count, more ? Cursor.Encode(lastSeq) : null);
    }

    // Column 0 is store_seq: the item's own cursor resumes a page right after it, which lets CentralApi merge sites' pages
    // and resume each site after whichever item it took last.
    private static JobItem ReadJob(NpgsqlDataReader r) => new(
        r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetString(5), NullableString(r, 6), r.GetString(7),
        r.GetFieldValue<DateTimeOffset>(8), NullableTime(r, 9), NullableDouble(r, 10), NullableDouble(r, 11), NullableDouble(r, 12),
        NullableDouble(r, 13), NullableJson(r, 14), r.GetFieldValue<DateTimeOffset>(15),
        new SubjobCounts(r.GetInt32(16), r.GetInt32(17), r.GetInt32(18), r.GetInt32(19), r.GetInt32(20)),
        r.GetFieldValue<DateTimeOffset>(21), Cursor.Encode(r.GetInt64(0)));

    private static SubjobItem ReadSubjob(NpgsqlDataReader r) => new(
        r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetGuid(4), r.GetString(5), r.GetString(6), NullableString(r, 7), r.GetString(8),
        r.GetFieldValue<DateTimeOffset>(9), NullableTime(r, 10), NullableDouble(r, 11), NullableDouble(r, 12), NullableDouble(r, 13),
        NullableDouble(r, 14), NullableJson(r, 15), r.GetFieldValue<DateTimeOffset>(16),
        r.GetFieldValue<DateTimeOffset>(17), Cursor.Encode(r.GetInt64(0)));

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static double? NullableDouble(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
    private static DateTimeOffset? NullableTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);
    private static JsonElement? NullableJson(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : JsonElement.Parse(r.GetString(i));
}
