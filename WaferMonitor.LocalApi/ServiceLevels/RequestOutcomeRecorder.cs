using WaferMonitor.LocalApi.Storage;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>
/// Counts this LocalApi's ingest and query requests per minute — all, 5xx, slower than <c>Sla:LatencyThreshold</c> — from
/// ASP.NET Core's own <c>http.server.request.duration</c> measurements (<see cref="HttpRequestListener"/>), and adds each finished
/// minute to <c>http_request_minute</c>, where the SLA reads them. Also prunes that table and <c>synthetic_check</c> to the
/// SLA window and a day.
/// </summary>
internal sealed partial class RequestOutcomeRecorder : BackgroundService
{
    public const string Ingest = "ingest";
    public const string Query = "query";

    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(DateTimeOffset Minute, string Kind), Counts> minutes = new();
    private readonly HttpRequestListener listener;
    private readonly NpgsqlDataSource dataSource;
    private readonly IOptions<SlaOptions> options;
    private readonly TimeProvider clock;
    private readonly ILogger<RequestOutcomeRecorder> logger;
    private DateTimeOffset lastPruned;

    private sealed class Counts
    {
        public long Requests;
        public long Errors;
        public long Slow;
    }

    public RequestOutcomeRecorder(IMeterFactory meterFactory, [FromKeyedServices(SiteDatabaseRoles.Ingest)] NpgsqlDataSource dataSource, IOptions<SlaOptions> options, TimeProvider clock,
        ILogger<RequestOutcomeRecorder> logger)
    {
        this.dataSource = dataSource;
        this.options = options;
        this.clock = clock;
        this.logger = logger;
        listener = new HttpRequestListener(meterFactory, OnRequest);
    }

    /// <summary>The kind of request an SLA objective covers, or null: POSTs to <c>/v1/ingest…</c>, GETs of <c>/v1/…</c> but the live stream.</summary>
    public static string? KindOf(string method, string route) =>
        route.StartsWith("/v1/ingest", StringComparison.Ordinal) ? Ingest
        : method == "GET" && route.StartsWith("/v1/", StringComparison.Ordinal) && !route.StartsWith("/v1/stream", StringComparison.Ordinal) ? Query
        : null;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        listener.Start();
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(everything: true, cancellationToken);
    }

    public override void Dispose()
    {
        listener.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await FlushAsync(everything: false, stoppingToken);
                if (clock.GetUtcNow() - lastPruned > TimeSpan.FromHours(1))
                    await PruneAsync(stoppingToken);
            }
            catch (NpgsqlException ex)
            {
                LogFlushFailed(ex.Message);
            }
        }
    }

    private void OnRequest(HttpRequestTags request, double seconds)
    {
        var (method, route, status) = request;
        if (KindOf(method, route) is not { } kind)
            return;
        var now = clock.GetUtcNow();
        var minute = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        var counts = minutes.GetOrAdd((minute, kind), _ => new Counts());
        Interlocked.Increment(ref counts.Requests);
        if (status >= 500)
            Interlocked.Increment(ref counts.Errors);
        if (seconds > options.Value.LatencyThreshold.Value.TotalSeconds)
            Interlocked.Increment(ref counts.Slow);
    }

    /// <summary>Adds the finished minutes (every minute, at shutdown) to the table and forgets them.</summary>
    private async Task FlushAsync(bool everything, CancellationToken cancellationToken)
    {
        var current = clock.GetUtcNow();
        var due = minutes.Keys.Where(k => everything || k.Minute.AddMinutes(1) <= current).ToList();
        var rows = new List<((DateTimeOffset Minute, string Kind) Key, Counts Counts)>();
        foreach (var key in due)
        {
            if (minutes.TryRemove(key, out var counts))
                rows.Add((key, counts));
        }
        if (rows.Count == 0)
            return;
        await using var command = dataSource.CreateCommand("""
            INSERT INTO http_request_minute AS t (minute, kind, requests, errors, slow)
            SELECT * FROM unnest(@minutes::timestamptz[], @kinds::text[], @requests::bigint[], @errors::bigint[], @slow::bigint[])
            ON CONFLICT (minute, kind) DO UPDATE SET requests = t.requests + EXCLUDED.requests, errors = t.errors + EXCLUDED.errors,
                slow = t.slow + EXCLUDED.slow
            """);
        command.Parameters.AddWithValue("minutes", rows.Select(r => r.Key.Minute).ToArray());
        command.Parameters.AddWithValue("kinds", rows.Select(r => r.Key.Kind).ToArray());
        command.Parameters.AddWithValue("requests", rows.Select(r => Interlocked.Read(ref r.Counts.Requests)).ToArray());
        command.Parameters.AddWithValue("errors", rows.Select(r => Interlocked.Read(ref r.Counts.Errors)).ToArray());
        command.Parameters.AddWithValue("slow", rows.Select(r => Interlocked.Read(ref r.Counts.Slow)).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - options.Value.Window.Value - TimeSpan.FromDays(1);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM http_request_minute WHERE minute < @cutoff") { Parameters = { new("cutoff", cutoff) } },
                new NpgsqlBatchCommand("DELETE FROM synthetic_check WHERE started_at < @cutoff") { Parameters = { new("cutoff", cutoff) } },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        lastPruned = clock.GetUtcNow();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording request outcomes for the SLA failed: {Reason}")]
    private partial void LogFlushFailed(string reason);
}
