using System.Net.Http.Headers;

namespace WaferMonitor.Benchmarks;

/// <summary>Issue 4: acknowledged events/s, single-event acknowledgement latency, and the disk's raw fsync latency.</summary>
internal static class SidecarBenchmark
{
    public static async Task RunAsync(BenchFab fab, int events, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine("== sidecar: acknowledged means fsync'd ==");
        var fsync = FsyncLatency(Path.Combine(fab.StateDirectory, "fsync-probe"), 500);
        output.WriteLine($"raw fsync of a 1 KiB append (this disk)          {Measure.Summary(fsync)}");

        using var client = fab.Client($"sidecar-{BenchFab.Site}");
        var singles = EventGenerator.Singles(BenchFab.Site, 2000);
        var latencies = await Measure.TimeEachAsync(singles.Count, async i =>
        {
            using var content = new ByteArrayContent(singles[i]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("/v1/ingest/events", content, cancellationToken);
            response.EnsureSuccessStatusCode();
        });
        output.WriteLine($"single-event ack latency, 1 connection          {Measure.Summary(latencies)}");

        var batches = EventGenerator.Batches(BenchFab.Site, events, 100);
        var elapsed = await Measure.PostAllAsync(client, "/v1/ingest/events:batch", batches, 8, cancellationToken);
        output.WriteLine($"acknowledged events/s, batches of 100, 8 conns  {events / elapsed.TotalSeconds,10:N0} events/s ({events:N0} events in {elapsed.TotalSeconds:0.0} s)");
    }

    private static List<double> FsyncLatency(string path, int count)
    {
        var block = new byte[1024];
        var millis = new List<double>(count);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            for (var i = 0; i < count; i++)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                file.Write(block);
                file.Flush(flushToDisk: true);
                millis.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        File.Delete(path);
        return millis;
    }
}
