using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Synthetic;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>This site's service levels as <c>GET /v1/sla</c> answers them.</summary>
public sealed record SlaReport(string Scope, string Window, DateTimeOffset EvaluatedAt, IReadOnlyList<SlaStatus> Objectives);

/// <summary>Reads the counts of every SLA window from <c>synthetic_check</c> and <c>http_request_minute</c> and judges them.</summary>
internal sealed class SlaQueries(NpgsqlDataSource dataSource, IOptions<SlaOptions> options, IOptions<LocalApiOptions> site, TimeProvider clock)
{
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
                new NpgsqlBatchCommand("""
                    SELECT w.name, count(*) FILTER (WHERE c.ok), count(c.*)
                    FROM unnest(@names::text[], @starts::timestamptz[]) AS w(name, since)
                    LEFT JOIN synthetic_check c ON c.started_at >= w.since AND c.started_at < @now
                    GROUP BY w.name
                    """) { Parameters = { new("names", names), new("starts", starts), new("now", now) } },
                new NpgsqlBatchCommand("""
                    SELECT w.name, m.kind, sum(m.requests)::bigint, sum(m.errors)::bigint, sum(m.slow)::bigint
                    FROM unnest(@names::text[], @starts::timestamptz[]) AS w(name, since)
                    JOIN http_request_minute m ON m.minute >= w.since AND m.minute < @now
                    GROUP BY w.name, m.kind
                    """) { Parameters = { new("names", names), new("starts", starts), new("now", now) } },
            },
        };
        var availability = Empty(names);
        var errors = Empty(names);
        var latency = new Dictionary<string, Dictionary<string, WindowCount>>(StringComparer.Ordinal)
        {
            [RequestOutcomeRecorder.Ingest] = Empty(names),
            [RequestOutcomeRecorder.Query] = Empty(names),
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            availability[reader.GetString(0)] = new WindowCount(reader.GetInt64(1), reader.GetInt64(2));
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
            SlaCalculator.Evaluate("availability", $"synthetic checks ({SyntheticApp.Description}) that pass", settings.Availability, window, availability),
            SlaCalculator.Evaluate("error_rate", "ingest and query requests not answered 5xx", 1 - settings.MaxErrorRate, window, errors),
            SlaCalculator.Evaluate("latency_ingest", $"ingest requests faster than {threshold:0.###} s (p{percentile:0.###})", settings.LatencyPercentile, window, ingestLatency),
            SlaCalculator.Evaluate("latency_query", $"query requests faster than {threshold:0.###} s (p{percentile:0.###})", settings.LatencyPercentile, window, queryLatency),
        ];
    }

    private static Dictionary<string, WindowCount> Empty(IEnumerable<string> names) => names.ToDictionary(n => n, _ => WindowCount.Empty, StringComparer.Ordinal);
}
