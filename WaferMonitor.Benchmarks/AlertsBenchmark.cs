using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using WaferMonitor.LocalApi.Alerts;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 25: one evaluation round of the default alert rules on a large site — LocalApi's own evaluator, run here against
/// the bench site's database so each round can be timed alone. Beside it, the baseline a table-scanning rule would
/// cost: one count of stalled jobs with index scans turned off. Then the time a failing lot takes to reach a webhook.
/// </summary>
internal static class AlertsBenchmark
{
    private const int Rounds = 20;

    public static async Task RunAsync(BenchFab fab, int jobs, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"== alerts: one evaluation round of the default rules on {jobs:N0} jobs ==");
        await using var dataSource = NpgsqlDataSource.Create(fab.ConnectionString + ";Command Timeout=0");
        if (await ScalarAsync(dataSource, "SELECT count(*) FROM job", cancellationToken) < jobs)
        {
            var loading = Stopwatch.GetTimestamp();
            await QueryBenchmark.LoadAsync(fab.ConnectionString, jobs, cancellationToken);
            output.WriteLine($"bulk-loaded in {Stopwatch.GetElapsedTime(loading).TotalSeconds:0} s");
        }
        // Ingest sets updated_at when it stores a row's latest event; the bulk load stamped every row with the load time.
        foreach (var sql in new[]
        {
            "UPDATE job SET updated_at = last_event_at WHERE updated_at <> last_event_at",
            "UPDATE subjob SET updated_at = last_event_at WHERE updated_at <> last_event_at",
            "VACUUM ANALYZE job", "VACUUM ANALYZE subjob",
        })
        {
            await using var command = dataSource.CreateCommand(sql);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var options = new AlertsOptions { PublicUrl = "http://localapi-bench" };
        var rules = AlertRuleSet.Build(options).Rules;
        // PublicUrl is set, so the links never ask the server for its address.
        var evaluator = new AlertEvaluator(new AlertLinks(Options.Create(options), null!), BenchFab.Site, options.MaxAlertsPerRule, NullLogger.Instance);

        var candidates = 0;
        var rounds = new List<double>();
        for (var i = 0; i < Rounds + 3; i++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var started = Stopwatch.GetTimestamp();
            var result = await evaluator.EvaluateAsync(connection, rules.Enabled, DateTimeOffset.UtcNow, cancellationToken);
            if (i >= 3)
                rounds.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            candidates = result.Candidates.Count;
        }
        output.WriteLine($"{"every default rule, one round",-48} {Measure.Summary(rounds)}  ({candidates:N0} alerts found)");

        foreach (var rule in rules.Enabled.Where(r => r.Kind != AlertKinds.DatabaseUnreachable))
        {
            var times = new List<double>();
            var found = 0;
            for (var i = 0; i < 8; i++)
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                var started = Stopwatch.GetTimestamp();
                found = (await evaluator.EvaluateAsync(connection, [rule], DateTimeOffset.UtcNow, cancellationToken)).Candidates.Count;
                if (i >= 3)
                    times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            output.WriteLine($"  {rule.Name,-46} {Measure.Summary(times)}  ({found:N0})");
        }

        var scans = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var off = new NpgsqlCommand("SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off", connection))
                await off.ExecuteNonQueryAsync(cancellationToken);
            var started = Stopwatch.GetTimestamp();
            await using var scan = new NpgsqlCommand(
                "SELECT count(*) FROM job WHERE status = 'running' AND last_event_at < now() - interval '10 minutes'", connection);
            await scan.ExecuteScalarAsync(cancellationToken);
            scans.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await using var reset = new NpgsqlCommand("RESET ALL", connection);
            await reset.ExecuteNonQueryAsync(cancellationToken);
        }
        output.WriteLine($"{"baseline: stalled jobs by scanning the job table",-48} {Measure.Summary(scans)}");

        await DeliveryAsync(fab, output, cancellationToken);
    }

    private const int FailingLots = 10;

    /// <summary>
    /// From the Sidecar acknowledging a failing lot's last event to the webhook receiving the alert that names that lot,
    /// through LocalApi, one evaluation round and Alertmanager. Beside it, the most the configuration makes it wait: the
    /// evaluation interval (the next round) plus Alertmanager's <c>group_wait</c>.
    /// </summary>
    private static async Task DeliveryAsync(BenchFab fab, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine("== alerts: a failing lot's last acknowledged event → webhook, through Alertmanager ==");
        if (fab.Alerts is not { } alerts)
        {
            output.WriteLine($"skipped: {AlertmanagerProcess.Binary} is not installed");
            return;
        }
        using var sidecar = fab.Client($"sidecar-{BenchFab.OtherSite}");
        var app = new AppRef(Guid.NewGuid(), "bench-etch", "1.0.0");
        var times = new List<double>();
        for (var i = 0; i < FailingLots; i++)
        {
            var lot = $"FAIL-{Guid.NewGuid().ToString("N")[..8]}";
            var body = JsonSerializer.SerializeToUtf8Bytes(FailingLot(app, lot), WireJson.Options);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await sidecar.PostAsync("/v1/ingest/events:batch", content, cancellationToken);
            response.EnsureSuccessStatusCode();
            var acknowledged = Stopwatch.GetTimestamp();
            var deadline = TimeSpan.FromMinutes(1);
            while (!alerts.Webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("business_key") == lot))
            {
                if (Stopwatch.GetElapsedTime(acknowledged) > deadline)
                    throw new TimeoutException($"no alert for {lot} reached the webhook within {deadline.TotalSeconds} s");
                await Task.Delay(10, cancellationToken);
            }
            times.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
        }
        output.WriteLine($"{"ack → webhook, one lot at a time",-48} {Measure.Summary(times)}");
        output.WriteLine($"{"configured waits: evaluation interval + group_wait",-48} {(alerts.EvaluationInterval + AlertmanagerProcess.GroupWait).TotalMilliseconds:0} ms");
    }

    /// <summary>A lot of 25 wafers whose job ends in an error after its wafers finished.</summary>
    private static List<WireEvent> FailingLot(AppRef app, string lot)
    {
        var jobId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var site = BenchFab.OtherSite;
        var events = new List<WireEvent> { new(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, jobId, null, lot, null),
            new EventBody(EventKinds.Started, at, EntityStatuses.Running, null, null)) };
        for (var wafer = 1; wafer <= 25; wafer++)
        {
            var subjob = new EntityRef(EntityTypes.Subjob, Guid.NewGuid(), jobId, null, $"wafer-{wafer:D2}");
            events.Add(new(Guid.NewGuid().ToString(), site, app, subjob, new EventBody(EventKinds.Started, at = at.AddSeconds(1), EntityStatuses.Running, null, null)));
            events.Add(new(Guid.NewGuid().ToString(), site, app, subjob, new EventBody(EventKinds.Finished, at = at.AddSeconds(5), EntityStatuses.Succeeded, null, null)));
        }
        events.Add(new(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, jobId, null, lot, null),
            new EventBody(EventKinds.Error, at.AddSeconds(1), EntityStatuses.Failed, null,
                JsonSerializer.SerializeToElement(new { error_type = "EndpointNotReached", error = "etch endpoint not detected" }))));
        return events;
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
