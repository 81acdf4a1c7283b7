using Npgsql;
using WaferMonitor.Rigs;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// A two-site fab for measurements (most use the first site; the central fan-out uses both), on a durable PostgreSQL
/// (normal fsync settings) in a temporary state directory that is removed afterwards.
/// </summary>
internal sealed class BenchFab : IAsyncDisposable
{
    public const string Site = "bench";
    public const string OtherSite = "bench2";

    /// <summary>
    /// A second LocalApi of the first site, on its database, with <c>Errors:Enabled=false</c>: ingest without error
    /// fingerprinting, beside the site's own LocalApi, for <see cref="FingerprintingBenchmark"/>. Declared only when asked
    /// for, and kept stopped except while that benchmark runs, so no other measurement shares the machine with it.
    /// </summary>
    public const string UnfingerprintedLocalApi = $"localapi-{Site}-unfingerprinted";
    private readonly string stateDirectory;

    private BenchFab(string stateDirectory, DistributedApplication app, AlertDelivery? alerts)
    {
        this.stateDirectory = stateDirectory;
        App = app;
        Alerts = alerts;
    }

    public DistributedApplication App { get; }

    /// <summary>
    /// The second site's alert path — an Alertmanager notifying a webhook here — or null when Alertmanager is not
    /// installed. Only that site evaluates quickly, so the first site's measurements do not share the CPU with it.
    /// </summary>
    public AlertDelivery? Alerts { get; }

    public sealed record AlertDelivery(AlertmanagerProcess Alertmanager, WebhookReceiver Webhook, TimeSpan EvaluationInterval) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Alertmanager.DisposeAsync();
            await Webhook.DisposeAsync();
        }
    }
    public string StateDirectory => stateDirectory;
    public string ConnectionString => App.Get<DatabaseResource>($"monitor-{Site}").ConnectionString;

    public static async Task<BenchFab> StartAsync(string? postgres, IReadOnlyList<string> postgresSettings, TextWriter output, CancellationToken cancellationToken,
        bool withUnfingerprintedLocalApi = false)
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-bench-" + Guid.NewGuid().ToString("N")[..8]);
        output.WriteLine($"starting a two-site fab in {stateDirectory} …");
        AlertDelivery? alerts = null;
        if (AlertmanagerProcess.Installed() is not null)
        {
            var webhook = await WebhookReceiver.StartAsync();
            alerts = new AlertDelivery(await AlertmanagerProcess.StartAsync(webhook.Url), webhook, TimeSpan.FromSeconds(1));
        }
        var app = Declare(stateDirectory, postgres, postgresSettings, alerts, withUnfingerprintedLocalApi).Build(TextWriter.Null, quiet: true);
        await app.StartAsync(TimeSpan.FromMinutes(3), cancellationToken);
        if (withUnfingerprintedLocalApi)
            await app.Get<ProjectResource>(UnfingerprintedLocalApi).StopForNowAsync();
        return new BenchFab(stateDirectory, app, alerts);
    }

    /// <summary>The rule the alert delivery measurement fires: any job that failed with an error names its lot.</summary>
    public const string FailedLotRule = "failed_lot";

    /// <summary>The AppHost's topology (PostgreSQL, S3, per site LocalApi, Sidecar and Archiver, one CentralApi) as plain processes.</summary>
    private static DistributedApplicationBuilder Declare(string stateDirectory, string? postgresConnectionString, IReadOnlyList<string> postgresSettings, AlertDelivery? alerts,
        bool withUnfingerprintedLocalApi)
    {
        var builder = new DistributedApplicationBuilder(stateDirectory);
        var postgres = builder.AddPostgres("postgres", postgresConnectionString, settings: postgresSettings);
        var s3 = builder.AddS3("s3", "wafermonitor-archive");
        var central = builder.AddProject("central", "CentralApi");
        foreach (var site in new[] { Site, OtherSite })
        {
            var database = builder.AddDatabase(postgres, $"monitor-{site}");
            var localApi = builder.AddProject($"localapi-{site}", "LocalApi")
                .WithReference(database, connectionName: "monitor")
                .WithEnvironment("LocalApi__SiteId", site)
                .WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
            builder.AddProject($"sidecar-{site}", "Sidecar")
                .WithReference(localApi)
                .WithEnvironment("Sidecar__SiteId", site)
                .WithEnvironment("Sidecar__LocalApiUrl", $"http://localapi-{site}")
                .WithEnvironment("Spool__Directory", Path.Combine(builder.StateDirectory, "spool", site));
            builder.AddProject($"archiver-{site}", "Archiver")
                .WithReference(database, connectionName: "monitor")
                .WithReference(s3)
                .WaitFor(localApi)
                .WithEnvironment("Archiver__SiteId", site);
            if (site == Site && withUnfingerprintedLocalApi)
            {
                builder.AddProject(UnfingerprintedLocalApi, "LocalApi")
                    .WithReference(database, connectionName: "monitor")
                    .WaitFor(localApi)
                    .WithEnvironment("LocalApi__SiteId", site)
                    .WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")
                    .WithEnvironment("Errors__Enabled", "false");
            }
            central.WithReference(localApi).WithEnvironment($"Sites__{site}", $"http://localapi-{site}")
                .WithEnvironment($"SiteTokens__{site}", builder.AccessKey);
            if (site == OtherSite && alerts is not null)
            {
                localApi.WithEnvironment("Alerts__AlertmanagerUrls__0", alerts.Alertmanager.Url.ToString())
                    .WithEnvironment("Alerts__EvaluationInterval", $"{alerts.EvaluationInterval.TotalSeconds}s")
                    .WithEnvironment($"Alerts__Rules__{FailedLotRule}__Kind", "error_matching")
                    .WithEnvironment($"Alerts__Rules__{FailedLotRule}__Pattern", ".")
                    .WithEnvironment($"Alerts__Rules__{FailedLotRule}__Severity", "critical");
            }
        }
        foreach (var project in builder.Projects)
            project.WithEnvironment("Logging__LogLevel__Default", "Warning")
                // Benchmarks measure throughput; the per-key ingest rate limit would measure itself.
                .WithEnvironment("Security__IngestRequestsPerSecond", "0");
        return builder;
    }

    public HttpClient Client(string resource)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var client = new HttpClient(handler) { BaseAddress = App.GetEndpoint(resource), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", App.AccessKey);
        return client;
    }

    /// <summary>
    /// The seq of the newest stored event: an index lookup, cheap enough to poll while measuring ingest (a count(*) over
    /// the growing event table would take CPU from the ingest it measures).
    /// </summary>
    public Task<long> NewestSeqAsync(CancellationToken cancellationToken) =>
        ScalarAsync("SELECT COALESCE(max(seq), 0) FROM event", 0, cancellationToken);

    /// <summary>Events stored after <paramref name="seq"/>, counted exactly.</summary>
    public Task<long> EventsAfterAsync(long seq, CancellationToken cancellationToken) =>
        ScalarAsync("SELECT count(*) FROM event WHERE seq > @seq", seq, cancellationToken);

    /// <summary>
    /// Empties the first site's event log, idempotency keys, projections and error occurrences, then checkpoints (see
    /// <see cref="CheckpointSql"/>). The cost of storing an event grows with the tables' indexes, so measurements compared
    /// with each other start from the same, empty, tables.
    /// </summary>
    /// <returns>The last seq handed out: events stored from now on have greater ones (the sequence is not reset).</returns>
    public Task<long> EmptySiteTablesAsync(CancellationToken cancellationToken) => ScalarAsync($"""
        TRUNCATE event, event_key, job, subjob, job_stats_dirty, error_occurrence;
        {CheckpointSql};
        SELECT last_value FROM event_seq
        """, 0, cancellationToken);

    /// <summary>Error occurrences stored in the first site (emptied by <see cref="EmptySiteTablesAsync"/>).</summary>
    public Task<long> ErrorOccurrencesAsync(CancellationToken cancellationToken) =>
        ScalarAsync("SELECT count(*) FROM error_occurrence", 0, cancellationToken);

    /// <summary>Checkpoints (see <see cref="CheckpointSql"/>) and answers the newest stored seq.</summary>
    public Task<long> CheckpointAsync(CancellationToken cancellationToken) =>
        ScalarAsync($"{CheckpointSql}; SELECT COALESCE(max(seq), 0) FROM event", 0, cancellationToken);

    /// <summary>
    /// Run before every measurement, so none of them shares the machine with a checkpoint: PostgreSQL starts the next one
    /// <c>checkpoint_timeout</c> (5 minutes) later, after the measurement. Otherwise the timed checkpoint that falls inside a
    /// run — writing out the dirty buffers meanwhile — slows whichever measurement it happens to overlap.
    /// </summary>
    public const string CheckpointSql = "CHECKPOINT";

    private async Task<long> ScalarAsync(string sql, long seq, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("seq", seq);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (Alerts is not null)
            await Alerts.DisposeAsync();
        try
        {
            Directory.Delete(stateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
