using System.Net;
using System.Net.Http.Headers;
using Npgsql;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 26: the site view's first screen on a large site, through the requests the page makes — the HTML, its files
/// revalidated (a returning operator's browser holds them), then <c>/v1/jobs</c>, <c>/v1/stats</c> and <c>/v1/healthz</c>
/// in parallel, as site.js asks for them. Beside it, the queries verb's "100 newest jobs" as the run's baseline.
/// </summary>
internal static class UiBenchmark
{
    private const int Samples = 60;
    private static readonly string[] Assets =
        ["/assets/pages.css", "/assets/vendor/chart.umd.min.js", "/assets/common.js", "/assets/site.js", "/assets/favicon.svg"];

    public static async Task RunAsync(BenchFab fab, int jobs, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"== ui: the site view's first screen on {jobs:N0} jobs ==");
        if (await JobCountAsync(fab.ConnectionString, cancellationToken) < jobs)
            await QueryBenchmark.LoadAndSettleAsync(fab, jobs, output, cancellationToken);
        using var client = fab.Client($"localapi-{BenchFab.Site}");

        var coldBytes = 0L;
        var tags = new Dictionary<string, EntityTagHeaderValue>();
        foreach (var asset in Assets)
        {
            using var response = await client.GetAsync(asset, cancellationToken);
            response.EnsureSuccessStatusCode();
            coldBytes += (await response.Content.ReadAsByteArrayAsync(cancellationToken)).Length;
            tags[asset] = response.Headers.ETag!;
        }
        output.WriteLine($"first visit downloads {Assets.Length} files, {coldBytes / 1024.0:0} KiB (then revalidated: 304)");

        string JobsPath() => $"/v1/jobs?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-24).ToString("O"))}&limit=50";
        string StatsPath()
        {
            var now = DateTimeOffset.UtcNow;
            return $"/v1/stats?from={Uri.EscapeDataString(now.AddHours(-24).ToString("O"))}&to={Uri.EscapeDataString(now.ToString("O"))}&bucket=900s";
        }
        async Task FirstScreenAsync()
        {
            await GetAsync(client, "/", null, cancellationToken);
            await Task.WhenAll(Assets.Select(asset => GetAsync(client, asset, tags[asset], cancellationToken)));
            await Task.WhenAll(GetAsync(client, JobsPath(), null, cancellationToken), GetAsync(client, StatsPath(), null, cancellationToken),
                GetAsync(client, "/v1/healthz", null, cancellationToken));
        }

        await ReportAsync(output, "baseline: 100 newest jobs (as bench queries)", () => GetAsync(client, "/v1/jobs?limit=100", null, cancellationToken));
        await ReportAsync(output, "page HTML (/)", () => GetAsync(client, "/", null, cancellationToken));
        await ReportAsync(output, "jobs table: 50 started in the last 24 h", () => GetAsync(client, JobsPath(), null, cancellationToken));
        await ReportAsync(output, "charts: /v1/stats over 24 h (15m buckets)", () => GetAsync(client, StatsPath(), null, cancellationToken));
        await ReportAsync(output, "first screen: HTML, 5 revalidations, 3 API calls", FirstScreenAsync);
    }

    private static async Task ReportAsync(TextWriter output, string name, Func<Task> request)
    {
        // Warm-up past the tiered JIT's recompilation (30 calls), as bench queries does.
        for (var i = 0; i < 50; i++)
            await request();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var millis = await Measure.TimeEachAsync(Samples, _ => request());
        output.WriteLine($"{name,-50} {Measure.Summary(millis)}");
    }

    private static async Task GetAsync(HttpClient client, string path, EntityTagHeaderValue? etag, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (etag is not null)
            request.Headers.IfNoneMatch.Add(etag);
        using var response = await client.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotModified)
            response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    private static async Task<long> JobCountAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM job", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
