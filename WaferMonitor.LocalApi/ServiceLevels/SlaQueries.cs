using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Synthetic;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>This site's service levels as <c>GET /v1/sla</c> answers them.</summary>
public sealed record SlaReport(string Scope, string Window, DateTimeOffset EvaluatedAt, IReadOnlyList<SlaStatus> Objectives);

/// <summary>Reads the counts of every SLA window from <c>synthetic_check</c> and <c>http_request_minute</c> and judges them.</summary>
internal sealed class SlaQueries(NpgsqlDataSource dataSource, IOptions<SlaOptions> options, IOptions<LocalApiOptions> site, TimeProvider clock)
{
    /// <summary>The canary's default interval, for results of a Sidecar that did not send its own (and rows older than migration 0014).</summary>
    private const double UnknownIntervalS = 60;

    public async Task<SlaReport> GetAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var window = settings.Window.Value;
        var windows = new List<(string Name, TimeSpan Length)>(SlaCalculator.BurnWindows) { (SlaCalculator.WindowName(window), window) };
        var names = windows.Select(w => w.Name).ToArray();
        var starts = windows.Select(w => now - w.Length).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                // A day before the window: no check interval is longer (SyntheticEndpoints.MaxIntervalS), so every one that
                // reaches into the window is read, and one before it tells the window is covered from its start.
                new NpgsqlBatchCommand($"""
                    SELECT started_at, coalesce(interval_s, {UnknownIntervalS}), ok AND coalesce(health, '{SyntheticHealth.Healthy}') = '{SyntheticHealth.Healthy}'
                    FROM synthetic_check WHERE started_at >= @earliest AND started_at <= @now
                    """) { Parameters = { new("earliest", now - window - TimeSpan.FromSeconds(SyntheticEndpoints.MaxIntervalS)), new("now", now) } },
                new NpgsqlBatchCommand("""
                    SELECT w.name, m.kind, sum(m.requests)::bigint, sum(m.errors)::bigint, sum(m.slow)::bigint
                    FROM unnest(@names::text[], @starts::timestamptz[]) AS w(name, since)
                    JOIN http_request_minute m ON m.minute >= w.since AND m.minute < @now
                    GROUP BY w.name, m.kind
                    """) { Parameters = { new("names", names), new("starts", starts), new("now", now) } },
            },
        };
        var checks = new List<CheckedInterval>();
        var errors = Empty(names);
        var latency = new Dictionary<string, Dictionary<string, WindowCount>>(StringComparer.Ordinal)
        {
            [RequestOutcomeRecorder.Ingest] = Empty(names),
            [RequestOutcomeRecorder.Query] = Empty(names),
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            checks.Add(new CheckedInterval(reader.GetFieldValue<DateTimeOffset>(0), TimeSpan.FromSeconds(reader.GetDouble(1)), reader.GetBoolean(2)));
        var availability = AvailabilityWindows.Count(checks, now, window);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (name, kind, requests, failed, slow) = (reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
            errors[name] = errors[name].Plus(new WindowCount(requests - failed, requests));
            if (latency.TryGetValue(kind, out var counts))
                counts[name] = counts[name].Plus(new WindowCount(requests - slow, requests));
        }
        return new SlaReport(site.Value.SiteId, SlaCalculator.WindowName(window), now, Judge(settings, availability, errors,
            latency[RequestOutcomeRecorder.Ingest], latency[RequestOutcomeRecorder.Query]));
    }

    /// <summary>The four objectives from their window counts; CentralApi judges the sites' summed counts the same way.</summary>
    public static IReadOnlyList<SlaStatus> Judge(SlaOptions settings, IReadOnlyDictionary<string, WindowCount> availability,
        IReadOnlyDictionary<string, WindowCount> errors, IReadOnlyDictionary<string, WindowCount> ingestLatency,
        IReadOnlyDictionary<string, WindowCount> queryLatency)
    {
        var window = settings.Window.Value;
        var threshold = settings.LatencyThreshold.Value.TotalSeconds;
        var percentile = settings.LatencyPercentile * 100;
        return
        [
            SlaCalculator.Evaluate("availability",
                $"seconds of synthetic check intervals whose check ({SyntheticApp.Description}) passed and found LocalApi's /health healthy; an interval without a result counts as unavailable",
                settings.Availability, window, availability),
            SlaCalculator.Evaluate("error_rate", "ingest and query requests not answered 5xx", 1 - settings.MaxErrorRate, window, errors),
            SlaCalculator.Evaluate("latency_ingest", $"ingest requests faster than {threshold:0.###} s (p{percentile:0.###})", settings.LatencyPercentile, window, ingestLatency),
            SlaCalculator.Evaluate("latency_query", $"query requests faster than {threshold:0.###} s (p{percentile:0.###})", settings.LatencyPercentile, window, queryLatency),
        ];
    }

    private static Dictionary<string, WindowCount> Empty(IEnumerable<string> names) => names.ToDictionary(n => n, _ => WindowCount.Empty, StringComparer.Ordinal);
}
