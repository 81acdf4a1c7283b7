using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Latency of CentralApi's fan-out as a dashboard sees it: the 100 newest jobs over every site, and the stats, each
/// with the response cache (repeated identical requests) and without it (<c>Cache-Control: no-cache</c>, so every
/// request reaches every site). Sequential requests, so the numbers are latencies, not throughput.
/// </summary>
public static class CentralBenchmark
{
    private const int Warmup = 10;
    private const int Requests = 200;

    private static readonly (string Name, string Path)[] Cases =
    [
        ("jobs (100 newest)", "/v1/jobs?limit=100"),
        ("stats", "/v1/stats"),
    ];

    public static async Task RunAsync(Uri central, string token, TextWriter output, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = central, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await output.WriteLineAsync($"central fan-out at {central} — {Requests} sequential requests per row after {Warmup} warm-up");
        await output.WriteLineAsync($"{"request",-20} {"cache",-9} {"p50 ms",8} {"p95 ms",8} {"hits",6} {"partial",8}");
        foreach (var (name, path) in Cases)
        {
            foreach (var useCache in new[] { false, true })
            {
                for (var i = 0; i < Warmup; i++)
                    await SendAsync(client, path, useCache, ct);
                var samples = new double[Requests];
                var hits = 0;
                var partial = 0;
                for (var i = 0; i < Requests; i++)
                {
                    var (elapsed, hit, isPartial) = await SendAsync(client, path, useCache, ct);
                    samples[i] = elapsed;
                    hits += hit ? 1 : 0;
                    partial += isPartial ? 1 : 0;
                }
                Array.Sort(samples);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-20} {(useCache ? "cache" : "no-cache"),-9} {Percentile(samples, 0.50),8:0.00} {Percentile(samples, 0.95),8:0.00} {hits,6} {partial,8}"));
            }
        }
    }

    private static async Task<(double ElapsedMs, bool Hit, bool Partial)> SendAsync(HttpClient client, string path, bool useCache, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (!useCache)
            request.Headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        var started = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        var hit = response.Headers.TryGetValues("X-Cache", out var values) && values.Contains("hit");
        return (elapsed, hit, body.Contains("\"partial\":true", StringComparison.Ordinal));
    }

    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}
