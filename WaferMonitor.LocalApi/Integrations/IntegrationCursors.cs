using WaferMonitor.LocalApi.Storage;
using Npgsql;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>Each integration's place in the event log, in <c>integration_cursor</c> (migration 0011).</summary>
internal sealed class IntegrationCursors([FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The integration's cursor; a new integration's is created at 0 (<c>earliest</c>) or at the greatest committed seq
    /// (<c>latest</c>).
    /// </summary>
    public async Task<long> LoadAsync(string integration, bool fromEarliest, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO integration_cursor (integration, last_seq)
            SELECT @integration, CASE WHEN @earliest THEN 0 ELSE (SELECT COALESCE(max(seq), 0) FROM event) END
            ON CONFLICT (integration) DO NOTHING;
            SELECT last_seq FROM integration_cursor WHERE integration = @integration;
            """);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("earliest", fromEarliest);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Moves the cursor forward (never back) once the sink has acknowledged everything up to <paramref name="seq"/>.</summary>
    public async Task SaveAsync(string integration, long seq, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE integration_cursor SET last_seq = @seq, updated_at = now()
            WHERE integration = @integration AND last_seq < @seq
            """);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("seq", seq);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The greatest committed event seq: how far behind an integration is.</summary>
    public async Task<long> LatestSeqAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(max(seq), 0) FROM event");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
