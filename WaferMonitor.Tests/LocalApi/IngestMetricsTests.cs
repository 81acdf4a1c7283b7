using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

[Collection(FabCollection.Name)]
public sealed class IngestMetricsTests(FabFixture fab)
{
    [Fact]
    public async Task Jobs_are_counted_once_when_they_first_finish_and_database_work_is_measured()
    {
        using var client = fab.Client("localapi-fab1");
        var app = new AppRef(Guid.NewGuid(), "metrics-" + Guid.NewGuid().ToString("N")[..8], "1.0.0");
        var jobId = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddMinutes(-2);
        await Events.PostBatchAsync(client, [Events.Job(jobId, EventKinds.Started, at, app: app)]);
        await Events.PostBatchAsync(client,
        [
            Events.Job(jobId, EventKinds.Finished, at.AddSeconds(40), status: "failed", app: app, metrics: new() { ["duration_s"] = 40 }),
        ]);
        // A competing terminal event changes the row but is not a second finished job.
        await Events.PostBatchAsync(client, [Events.Job(jobId, EventKinds.Canceled, at.AddSeconds(41), app: app)]);

        var text = await client.GetStringAsync("/metrics");

        Assert.Contains($"jobs_total{{app=\"{app.Name}\",status=\"failed\"}} 1\n", text);
        Assert.DoesNotContain($"jobs_total{{app=\"{app.Name}\",status=\"canceled\"}}", text);
        Assert.Contains($"job_duration_seconds_count{{app=\"{app.Name}\"}} 1\n", text);
        Assert.Contains($"job_duration_seconds_bucket{{app=\"{app.Name}\",le=\"60\"}} 1\n", text);
        // OpenTelemetry orders a point's tags by key.
        Assert.Matches("db_operations_total\\{operation=\"copy\",status=\"ok\",table=\"event\"\\} [1-9]", text);
        Assert.Contains("# TYPE db_operation_duration_seconds histogram", text);
        // A series without labels is written with empty braces by the exporter; Prometheus reads both spellings alike.
        Assert.Matches("\ndb_pool_size(\\{\\})? 32\n", text);
        Assert.Matches("\ndb_pool_available(\\{\\})? [0-9]+\n", text);
        Assert.Matches("events_processed_total\\{kind=\"finished\",status=\"accepted\"\\} [1-9]", text);
        Assert.Contains("# TYPE jobs_running gauge", text);
        Assert.Contains("# TYPE ingest_batches_waiting gauge", text);
        Assert.Contains("# TYPE job_oldest_running_seconds gauge", text);

        // The finished job is also one structured JSON log line, with the seed's property names.
        var log = Path.Combine(fab.StateDirectory, "logs", "localapi-fab1.log");
        JsonElement line = default;
        await Events.Eventually(async () =>
        {
            var match = (await File.ReadAllLinesAsync(log)).LastOrDefault(l => l.Contains("\"job_finished\"") && l.Contains(jobId.ToString()));
            if (match is not null)
                line = JsonDocument.Parse(match).RootElement.Clone();
            return match is not null;
        }, "the job_finished log line");
        Assert.Equal("info", line.GetProperty("level").GetString());
        Assert.Equal("localapi-fab1", line.GetProperty("service").GetString());
        Assert.Equal("fab1", line.GetProperty("site").GetString());
        Assert.Equal("fab1", line.GetProperty("site_id").GetString());
        Assert.Equal(app.Name, line.GetProperty("app").GetString());
        Assert.Equal("failed", line.GetProperty("status").GetString());
        Assert.Equal(40, line.GetProperty("duration_s").GetDouble());
        Assert.StartsWith("Job {job_id} of {app}", line.GetProperty("template").GetString());
        Assert.Contains(jobId.ToString(), line.GetProperty("message").GetString());
        Assert.Equal(32, line.GetProperty("trace_id").GetString()!.Length);
        Assert.True(line.TryGetProperty("timestamp", out _));
    }
}
