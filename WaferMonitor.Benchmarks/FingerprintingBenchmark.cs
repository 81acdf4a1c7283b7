using System.Diagnostics;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 28: computing error groups must not slow ingest by more than a few per cent. In one run, LocalApi batch ingest —
/// (b) of <see cref="IngestBenchmark"/>, on lots where every <see cref="FailEvery"/>th wafer fails — with error
/// fingerprinting off (<see cref="BenchFab.UnfingerprintedLocalApi"/>, <c>Errors:Enabled=false</c>) and on (the site's
/// own LocalApi), side by side on the same database. Both are warmed up alike, until the JIT has settled
/// (<see cref="IngestBenchmark.SettleAsync"/>); then each round measures both, each from
/// empty tables, the order alternating between rounds (this machine's speed drifts over minutes). Events/s and LocalApi's
/// CPU per event, per round and as medians.
/// </summary>
internal static class FingerprintingBenchmark
{
    /// <summary>Every 5th wafer fails: 5 failing events in a lot's 52, about 10 % of the events.</summary>
    public const int FailEvery = 5;

    private const int Rounds = 4;


    public static async Task RunAsync(BenchFab fab, int events, TextWriter output, CancellationToken cancellationToken)
    {
        var unfingerprinted = fab.App.Get<ProjectResource>(BenchFab.UnfingerprintedLocalApi);
        await unfingerprinted.StartAgainAsync(cancellationToken);
        try
        {
            var failing = EventGenerator.Lots(BenchFab.Site, events, FailEvery).Count(e => e.Event.Kind == EventKinds.Error);
            output.WriteLine($"== ingest with error fingerprinting off and on: {events:N0} events per measurement, {failing:N0} of them failing " +
                $"({(double)failing / events:P1}); batches of {IngestBenchmark.BatchSize}, {IngestBenchmark.Connections} connections; {Rounds} rounds, " +
                $"alternating which goes first, each from empty tables, after a warm-up of each until its JIT has settled ==");
            var postgres = fab.App.Get<PostgresResource>("postgres").ProcessId;
            using var off = fab.Client(BenchFab.UnfingerprintedLocalApi);
            using var on = fab.Client($"localapi-{BenchFab.Site}");
            (string Name, HttpClient Client, int? ProcessId)[] variants =
            [
                ("off", off, unfingerprinted.ProcessId),
                ("on ", on, fab.App.Get<ProjectResource>($"localapi-{BenchFab.Site}").ProcessId),
            ];
            // As (b)'s warm-up, failing events among them: in a first run of this benchmark, after 100,000 events through
            // each, the JIT still took up to 35 of LocalApi's 50 µs per event, and decided the comparison.
            foreach (var (name, client, processId) in variants)
            {
                await IngestBenchmark.StoreAllAsync(fab, client, IngestBenchmark.WarmUpEvents, cancellationToken, FailEvery);
                var cpu = new IngestBenchmark.CpuPerEvent(("LocalApi", processId), ("PostgreSQL", postgres));
                output.WriteLine($"    fingerprinting {name}: " + await IngestBenchmark.SettleAsync(fab, client, cpu, cancellationToken, FailEvery));
            }

            var measured = variants.ToDictionary(v => v.Name, _ => new List<(double Rate, double LocalApiMicros)>());
            for (var round = 1; round <= Rounds; round++)
            {
                foreach (var (name, client, processId) in round % 2 == 1 ? variants : variants.Reverse())
                {
                    var cpu = new IngestBenchmark.CpuPerEvent(("LocalApi", processId), ("PostgreSQL", postgres));
                    var before = await fab.EmptySiteTablesAsync(cancellationToken);
                    var bodies = EventGenerator.Batches(BenchFab.Site, events, IngestBenchmark.BatchSize, IngestBenchmark.Connections, FailEvery);
                    cpu.Start();
                    var started = Stopwatch.GetTimestamp();
                    await Measure.PostAllAsync(client, "/v1/ingest/events:batch", bodies, IngestBenchmark.Connections, cancellationToken);
                    await IngestBenchmark.WaitUntilStoredAsync(fab, before, events, cancellationToken);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    var micros = cpu.Micros("LocalApi", events);
                    var report = cpu.Report(events);
                    var rate = await fab.EventsAfterAsync(before, cancellationToken) / elapsed.TotalSeconds;
                    measured[name].Add((rate, micros));
                    output.WriteLine($"round {round}: fingerprinting {name}  {rate,10:N0} events/s  LocalApi {micros,5:0.0} µs/event  " +
                        $"error occurrences stored: {await fab.ErrorOccurrencesAsync(cancellationToken):N0}");
                    output.WriteLine(report);
                }
            }
            double Median(IEnumerable<double> values) => values.Order().ElementAt(Rounds / 2);
            var (offRate, onRate) = (Median(measured["off"].Select(m => m.Rate)), Median(measured["on "].Select(m => m.Rate)));
            var (offMicros, onMicros) = (Median(measured["off"].Select(m => m.LocalApiMicros)), Median(measured["on "].Select(m => m.LocalApiMicros)));
            var ratios = measured["on "].Zip(measured["off"], (a, b) => a.Rate / b.Rate).ToList();
            output.WriteLine($"== medians over {Rounds} rounds: off {offRate:N0} events/s, on {onRate:N0} events/s = {onRate / offRate:P1} of off " +
                $"(per round: {string.Join(", ", ratios.Select(r => r.ToString("P1")))}); LocalApi CPU per event off {offMicros:0.0} µs, on {onMicros:0.0} µs " +
                $"({(onMicros - offMicros) / offMicros:+0.0%;-0.0%})");
        }
        finally
        {
            await unfingerprinted.StopForNowAsync();
        }
    }
}
