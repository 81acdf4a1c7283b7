using System.Diagnostics;
using System.Net.Http.Headers;

namespace WaferMonitor.Benchmarks;

internal static class Measure
{
    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    public static string Summary(List<double> millis)
    {
        millis.Sort();
        return $"p50 {Percentile(millis, 0.50),7:0.00} ms  p95 {Percentile(millis, 0.95),7:0.00} ms  p99 {Percentile(millis, 0.99),7:0.00} ms  (n={millis.Count})";
    }

    /// <summary>Posts every body with <paramref name="connections"/> concurrent senders; returns the elapsed time.</summary>
    public static async Task<TimeSpan> PostAllAsync(HttpClient client, string path, IReadOnlyList<byte[]> bodies, int connections, CancellationToken cancellationToken)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                using var content = new ByteArrayContent(bodies[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync(path, content, cancellationToken);
                response.EnsureSuccessStatusCode();
            }
        }));
        return Stopwatch.GetElapsedTime(started);
    }

    public static async Task<List<double>> TimeEachAsync(int count, Func<int, Task> action)
    {
        var millis = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await action(i);
            millis.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return millis;
    }
}
