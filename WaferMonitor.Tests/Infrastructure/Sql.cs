using Npgsql;

namespace WaferMonitor.Tests.Infrastructure;

/// <summary>Ad-hoc reads of a site database, for tests that compare an API's answer with the rows.</summary>
public static class Sql
{
    /// <summary>Every row of the query as its column values (null for SQL NULL).</summary>
    public static async Task<List<object?[]>> QueryAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Advisory locks of the database being waited for, in one key space: 1 for locks taken with one bigint key, 2 for
    /// locks taken with two int keys.
    /// </summary>
    public static async Task<long> AdvisoryWaitsAsync(string connectionString, int keySpace) =>
        (long)(await QueryAsync(connectionString, """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = @key_space AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, ("key_space", (short)keySpace)))[0][0]!;
}
