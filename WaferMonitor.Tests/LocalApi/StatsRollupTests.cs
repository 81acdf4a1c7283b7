using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>
/// <c>/v1/stats</c> served from the rollups agrees with the job rows: counts exactly, percentiles within the histogram's
/// 1 % — before the rollups are refreshed, after, and after jobs change status or move to another granule.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class StatsRollupTests(FabFixture fab)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-01-10T08:00:00Z", CultureInfo.InvariantCulture);
    private static readonly string[] Apps = ["litho", "etch", "cvd"];

    [Fact]
    public async Task Stats_from_rollups_agree_with_the_job_rows_before_and_after_folding()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Stats__ExactPercentileJobs"] = "0",
            ["Stats__RollupInterval"] = "200ms",
        });
        using var client = rig.Client("localapi");
        var random = new Random(20261122);
        var apps = Apps.Select(name => new AppRef(Guid.NewGuid(), name, "1.0.0")).ToArray();
        var running = new List<(Guid Id, AppRef App, DateTimeOffset Started)>();
        var events = new List<WireEvent>();
        for (var i = 0; i < 1500; i++)
        {
            var id = Guid.NewGuid();
            var app = apps[random.Next(apps.Length)];
            var started = T0.AddSeconds(random.NextDouble() * 200 * 60);
            events.Add(Events.Job(id, EventKinds.Started, started, site: rig.Site, app: app));
            var outcome = random.NextDouble();
            if (outcome < 0.08)
            {
                running.Add((id, app, started));
                continue;
            }
            var duration = Math.Exp(3 + random.NextDouble() * 2.5);
            var (kind, status) = outcome < 0.16 ? (EventKinds.Error, (string?)null) : outcome < 0.2 ? (EventKinds.Canceled, null) : (EventKinds.Finished, "succeeded");
            events.Add(Events.Job(id, kind, started.AddSeconds(duration), site: rig.Site, app: app, status: status, metrics: new()
            {
                ["duration_s"] = duration,
                ["cpu_user_s"] = duration * (0.1 + random.NextDouble() * 0.8),
                ["mem_max_mb"] = 100 + random.NextDouble() * 3900,
            }));
        }
        foreach (var chunk in events.Chunk(500))
            await Events.PostBatchAsync(client, chunk);

        await AssertAllRangesAgreeAsync(client, rig.ConnectionString);
        await WaitForFoldAsync(rig.ConnectionString);
        await AssertAllRangesAgreeAsync(client, rig.ConnectionString);

        // Finish some running jobs and move others into an earlier granule (and hour) with an earlier started event.
        var changes = running.Take(40).Select(r => Events.Job(r.Id, EventKinds.Finished, r.Started.AddMinutes(3), site: rig.Site, app: r.App,
                status: "succeeded", metrics: new() { ["duration_s"] = 180 }))
            .Concat(running.Skip(40).Select(r => Events.Job(r.Id, EventKinds.Started, r.Started.AddMinutes(-47), site: rig.Site, app: r.App)));
        await Events.PostBatchAsync(client, changes);
        await AssertAllRangesAgreeAsync(client, rig.ConnectionString);
        await WaitForFoldAsync(rig.ConnectionString);
        await AssertAllRangesAgreeAsync(client, rig.ConnectionString);
    }

    private static async Task AssertAllRangesAgreeAsync(HttpClient client, string connectionString)
    {
        var unalignedFrom = T0.AddMinutes(7).AddSeconds(13.5);
        var unalignedTo = T0.AddHours(3).AddMinutes(2).AddSeconds(41);
        foreach (var (from, to, bucket) in new[]
        {
            (unalignedFrom, unalignedTo, 300),
            (unalignedFrom, unalignedTo, 900),
            (unalignedFrom, unalignedTo, 420), // not a whole number of granules: computed from the rows
            (T0.AddHours(-1), T0.AddHours(5), 3600),
            (T0.AddMinutes(61), T0.AddMinutes(64), 300), // inside one granule
        })
        {
            var query = $"/v1/stats?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}&bucket={bucket}s";
            var actual = await client.GetFromJsonAsync<JsonElement>(query);
            var expected = await TruthAsync(connectionString, from, to, bucket);
            var context = $"{query}: ";

            var counts = actual.GetProperty("counts");
            foreach (var status in EntityStatuses.All)
                Assert.True(expected.Counts.GetValueOrDefault(status) == counts.GetProperty(status).GetInt64(), context + status);
            Assert.Equal(expected.Buckets, actual.GetProperty("buckets").EnumerateArray()
                .SelectMany(b => EntityStatuses.All.Select(s => (b.GetProperty("start").GetDateTimeOffset(), s, b.GetProperty(s).GetInt64())))
                .Where(b => b.Item3 > 0).ToHashSet());
            Assert.Equal("histogram", actual.GetProperty("percentile_method").GetString());

            var perApp = actual.GetProperty("per_app").EnumerateArray().ToDictionary(a => a.GetProperty("app_name").GetString()!);
            Assert.Equal(expected.Apps.Keys.Order(), perApp.Keys.Order());
            foreach (var (name, truth) in expected.Apps)
            {
                var app = perApp[name];
                Assert.Equal(truth.Jobs, app.GetProperty("jobs").GetInt64());
                Assert.Equal(truth.Failed, app.GetProperty("failed").GetInt64());
                Assert.Equal(truth.FailureRate, app.GetProperty("failure_rate").ValueKind == JsonValueKind.Null ? null : app.GetProperty("failure_rate").GetDouble());
                foreach (var (metric, percentiles) in truth.Percentiles)
                {
                    foreach (var (p, value) in percentiles)
                    {
                        var served = app.GetProperty(metric).GetProperty(p);
                        if (value is null)
                        {
                            Assert.Equal(JsonValueKind.Null, served.ValueKind);
                            continue;
                        }
                        Assert.True(Math.Abs(served.GetDouble() - value.Value) <= 0.01 * Math.Abs(value.Value) + 1e-3,
                            $"{context}{name} {metric} {p}: served {served.GetDouble()}, exact {value}");
                    }
                }
            }
        }
    }

    private sealed record AppTruth(long Jobs, long Failed, double? FailureRate, Dictionary<string, Dictionary<string, double?>> Percentiles);

    private sealed record Truth(Dictionary<string, long> Counts, HashSet<(DateTimeOffset, string, long)> Buckets, Dictionary<string, AppTruth> Apps);

    /// <summary>The answer computed straight from the job rows, as the endpoint did before it had rollups.</summary>
    private static async Task<Truth> TruthAsync(string connectionString, DateTimeOffset from, DateTimeOffset to, int bucketSeconds)
    {
        const string inRange = "FROM job WHERE started_at >= @from AND started_at < @to";
        Task<List<object?[]>> Rows(string sql) =>
            Sql.QueryAsync(connectionString, sql, ("from", from), ("to", to), ("bucket", TimeSpan.FromSeconds(bucketSeconds)));

        var counts = (await Rows($"SELECT status, count(*) {inRange} GROUP BY status")).ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        var buckets = (await Rows($"SELECT date_bin(@bucket, started_at, timestamptz 'epoch'), status, count(*) {inRange} GROUP BY 1, 2"))
            .Select(r => (new DateTimeOffset((DateTime)r[0]!), (string)r[1]!, (long)r[2]!)).ToHashSet();
        var apps = new Dictionary<string, AppTruth>();
        foreach (var r in await Rows($"""
            SELECT app_name, count(*), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status <> 'running'),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_s),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY cpu_user_s),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY mem_max_mb)
            {inRange} GROUP BY app_name
            """))
        {
            var finished = (long)r[3]!;
            Dictionary<string, double?> P(object? values) => values is double[] v
                ? new() { ["p50"] = v[0], ["p95"] = v[1], ["p99"] = v[2] }
                : new() { ["p50"] = null, ["p95"] = null, ["p99"] = null };
            apps[(string)r[0]!] = new AppTruth((long)r[1]!, (long)r[2]!, finished == 0 ? null : (double)(long)r[2]! / finished,
                new() { ["duration_s"] = P(r[4]), ["cpu_user_s"] = P(r[5]), ["mem_max_mb"] = P(r[6]) });
        }
        return new Truth(counts, buckets, apps);
    }

    private static async Task WaitForFoldAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await Events.Eventually(async () =>
        {
            await using var command = new NpgsqlCommand("SELECT NOT EXISTS (SELECT FROM job_stats_dirty) AND EXISTS (SELECT FROM job_stats_bin WHERE span_s = 3600)", connection);
            return (bool)(await command.ExecuteScalarAsync())!;
        }, "the stats rollups to fold every changed granule");
    }
}
