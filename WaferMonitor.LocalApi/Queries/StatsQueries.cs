using Npgsql;

namespace WaferMonitor.LocalApi.Queries;

/// <summary>Dashboard statistics, computed in the database in one round trip.</summary>
internal sealed class StatsQueries(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const int MaxBuckets = 10_000;

    public async Task<JobStats> GetAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan bucket, CancellationToken cancellationToken)
    {
        var bucketSeconds = (long)bucket.TotalSeconds;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlBatchCommand Command(string sql)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("to", to);
            command.Parameters.AddWithValue("bucket", (double)bucketSeconds);
            return command;
        }
        const string inRange = "started_at >= @from AND started_at < @to";
        const string byStatus = """
            count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'succeeded'),
            count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'canceled')
            """;
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                Command($"SELECT {byStatus} FROM job WHERE {inRange}"),
                Command($"""
                    SELECT to_timestamp(floor(extract(epoch FROM started_at) / @bucket) * @bucket) AS bucket_start, {byStatus}
                    FROM job WHERE {inRange} GROUP BY 1 ORDER BY 1
                    """),
                Command($"""
                    SELECT app_name, count(*), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status <> 'running'),
                           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_s),
                           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY cpu_user_s),
                           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY mem_max_mb)
                    FROM job WHERE {inRange} GROUP BY app_name ORDER BY app_name
                    """),
                new NpgsqlBatchCommand("""
                    SELECT (SELECT count(*) FROM job WHERE status = 'running'), o.started_at, o.job_id
                    FROM (SELECT 1) one
                    LEFT JOIN LATERAL (SELECT started_at, job_id FROM job WHERE status = 'running' ORDER BY started_at, job_id LIMIT 1) o ON true
                    """),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        await reader.ReadAsync(cancellationToken);
        var counts = new StatusCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
            reader.GetInt64(0) + reader.GetInt64(1) + reader.GetInt64(2) + reader.GetInt64(3));

        await reader.NextResultAsync(cancellationToken);
        var buckets = new List<StatsBucket>();
        while (await reader.ReadAsync(cancellationToken))
            buckets.Add(new StatsBucket(reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));

        await reader.NextResultAsync(cancellationToken);
        var perApp = new List<AppStats>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var finished = reader.GetInt64(3);
            perApp.Add(new AppStats(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2),
                finished == 0 ? null : (double)reader.GetInt64(2) / finished,
                Percentiles(reader, 4), Percentiles(reader, 5), Percentiles(reader, 6)));
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var oldest = reader.IsDBNull(1) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(1);
        var running = new RunningJobs(reader.GetInt64(0), oldest, reader.IsDBNull(2) ? null : reader.GetGuid(2),
            oldest is { } started ? (clock.GetUtcNow() - started).TotalSeconds : null);

        return new JobStats(from, to, bucketSeconds, counts, buckets, perApp, running);
    }

    private static Percentiles Percentiles(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return new Percentiles(null, null, null);
        var values = reader.GetFieldValue<double?[]>(ordinal);
        return new Percentiles(values[0], values[1], values[2]);
    }
}
