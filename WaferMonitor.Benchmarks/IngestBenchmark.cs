using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// Issue 5: in one run, (a) raw binary COPY of equivalent rows into an equivalent table — the physical limit —
/// (b) LocalApi batch ingest, (c) Sidecar → LocalApi end to end, each until stored, as events/s and ratios to (a).
/// (b) and (c) post from <see cref="Connections"/> producers with their own lots, like that many business nodes. For
/// context, (b) once more on tables that already hold <see cref="GrownTableEvents"/> events. Last, (b) with error
/// fingerprinting off and on (<see cref="FingerprintingBenchmark"/>).
/// </summary>
internal static class IngestBenchmark
{
    internal const int Connections = 8;
    internal const int BatchSize = 1000;

    /// <summary>
    /// Events each path stores, at least, unmeasured, before it is measured. A service runs for weeks; in its first few hundred
    /// batches the runtime is still compiling the ingest path (tiered JIT: a quarter of LocalApi's CPU went to the JIT in
    /// a profile of its first 200,000 events, the rest ran partly in unoptimised code).
    /// </summary>
    internal const int WarmUpEvents = 200_000;

    /// <summary>
    /// After <see cref="WarmUpEvents"/>, a path through the services is warmed up further, in rounds, until the runtime
    /// has done compiling: in a profile of the Sidecar after 200,000 events a quarter of its CPU still went to the JIT's
    /// background thread. A path is settled when that thread used at most <see cref="SettledCompilingShare"/> of the
    /// fab's CPU over a round, and is measured anyway after <see cref="MaxWarmUpRounds"/> rounds.
    /// </summary>
    private const int WarmUpRoundEvents = 50_000;
    private const int MaxWarmUpRounds = 12;
    private const double SettledCompilingShare = 0.01;

    /// <summary>
    /// Context for the ratios, not a goal: after (c), (b) is measured once more on tables that already hold this many
    /// events, to show how the cost of an event grows with the tables' indexes.
    /// </summary>
    private const int GrownTableEvents = 1_000_000;

    /// <summary>
    /// (a), (b) and (c) are measured in turn this many times, each ratio against the (a) of its round, and each ratio's
    /// median over the rounds is the result: this machine's speed drifts over minutes (the same (a) has cost PostgreSQL 14 µs per event in one run
    /// and 20 µs in another), and a ratio against an (a) measured minutes apart measured the drift as much as the ingest.
    /// </summary>
    private const int Rounds = 3;

    public static async Task RunAsync(BenchFab fab, int events, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"== ingest: {events:N0} events, batches of {BatchSize}, {Connections} connections; {Rounds} rounds of (a)–(c), each from empty tables, after at least {WarmUpEvents:N0} unmeasured ==");
        var cpu = new CpuPerEvent(
            ("LocalApi", fab.App.Get<ProjectResource>($"localapi-{BenchFab.Site}").ProcessId),
            ("Sidecar", fab.App.Get<ProjectResource>($"sidecar-{BenchFab.Site}").ProcessId),
            ("PostgreSQL", fab.App.Get<PostgresResource>("postgres").ProcessId));
        // One data source for the warm-up and every round, open until the end: its backends stay alive, so their CPU is
        // read while they run (backends exiting around a reading were counted erratically).
        await using var copies = NpgsqlDataSource.Create(fab.ConnectionString);
        await RawCopyAsync(copies, WarmUpEvents, cpu: null, cancellationToken);
        using var localApi = fab.Client($"localapi-{BenchFab.Site}");
        await StoreAllAsync(fab, localApi, WarmUpEvents, cancellationToken);
        output.WriteLine("    (b) " + await SettleAsync(fab, localApi, cpu, cancellationToken));
        using var sidecar = fab.Client($"sidecar-{BenchFab.Site}");
        await StoreAllAsync(fab, sidecar, WarmUpEvents, cancellationToken);
        output.WriteLine("    (c) " + await SettleAsync(fab, sidecar, cpu, cancellationToken));

        var rounds = new List<(double Raw, double ViaLocalApi, double EndToEnd)>();
        for (var round = 1; round <= Rounds; round++)
        {
            output.WriteLine($"-- round {round} of {Rounds}");
            // Emptied before (a) too: otherwise autovacuum works through the site tables' previous events during (a).
            await fab.EmptySiteTablesAsync(cancellationToken);
            var raw = await RawCopyAsync(copies, events, cpu, cancellationToken);
            output.WriteLine($"(a) raw COPY into an equivalent table            {raw,10:N0} events/s");
            output.WriteLine(cpu.Report(events));
            var (viaLocalApi, cpuReport) = await MeasureStoredAsync(fab, localApi, cpu, events, emptyTablesFirst: true, cancellationToken);
            output.WriteLine($"(b) LocalApi batch ingest, stored                {viaLocalApi,10:N0} events/s  = {viaLocalApi / raw:P0} of (a)");
            output.WriteLine(cpuReport);
            (var endToEnd, cpuReport) = await MeasureStoredAsync(fab, sidecar, cpu, events, emptyTablesFirst: true, cancellationToken);
            output.WriteLine($"(c) Sidecar -> LocalApi, until stored            {endToEnd,10:N0} events/s  = {endToEnd / raw:P0} of (a)");
            output.WriteLine(cpuReport);
            rounds.Add((raw, viaLocalApi, endToEnd));
        }
        output.WriteLine($"== over {Rounds} rounds: (b)/(a) median {Summary(rounds.Select(r => r.ViaLocalApi / r.Raw))}; (c)/(a) median {Summary(rounds.Select(r => r.EndToEnd / r.Raw))}");
        var raws = rounds.Select(r => r.Raw).Order().ToList();

        await StoreAllAsync(fab, localApi, Math.Max(0, GrownTableEvents - events), cancellationToken);
        var (grown, grownCpuReport) = await MeasureStoredAsync(fab, localApi, cpu, events, emptyTablesFirst: false, cancellationToken);
        output.WriteLine($"(b) again, on tables holding {Math.Max(GrownTableEvents, events),9:N0} events {grown,10:N0} events/s  = {grown / raws[Rounds / 2]:P0} of the median (a)  (context, no goal)");
        output.WriteLine(grownCpuReport);

        await FingerprintingBenchmark.RunAsync(fab, events, output, cancellationToken);
    }

    /// <summary>The median of the rounds' ratios, then each round's.</summary>
    private static string Summary(IEnumerable<double> ratios)
    {
        var perRound = ratios.ToList();
        return $"{perRound.Order().ElementAt(perRound.Count / 2):P0} (rounds: {string.Join(", ", perRound.Select(r => r.ToString("P0")))})";
    }

    /// <summary>
    /// (b) or (c): fresh events posted through <paramref name="client"/> (LocalApi answers once they are stored, the Sidecar
    /// once they are spooled); events stored per second until the site stored them all, and the CPU they took.
    /// </summary>
    internal static async Task<(double Rate, string CpuReport)> MeasureStoredAsync(
        BenchFab fab, HttpClient client, CpuPerEvent cpu, int events, bool emptyTablesFirst, CancellationToken cancellationToken,
        int failEvery = 0, IdLayout ids = IdLayout.Random)
    {
        var bodies = EventGenerator.Batches(BenchFab.Site, events, BatchSize, Connections, failEvery, ids);
        var before = emptyTablesFirst ? await fab.EmptySiteTablesAsync(cancellationToken) : await fab.CheckpointAsync(cancellationToken);
        cpu.Start();
        var started = Stopwatch.GetTimestamp();
        await Measure.PostAllAsync(client, "/v1/ingest/events:batch", bodies, Connections, cancellationToken);
        await WaitUntilStoredAsync(fab, before, events, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuReport = cpu.Report(events);
        return (await fab.EventsAfterAsync(before, cancellationToken) / elapsed.TotalSeconds, cpuReport);
    }

    /// <summary>
    /// CPU time per event of the fab's processes over a measurement: where the machine's two cores went, and how much of
    /// it a .NET service spent compiling (the JIT's background thread). Processes that used next to none (or are not
    /// local) are left out. Also the bench's own (its client's) CPU per event and how busy the machine's cores were: idle
    /// cores mean the measurement waited on something other than CPU.
    /// </summary>
    internal sealed class CpuPerEvent(params (string Name, int? ProcessId)[] processes)
    {
        private TimeSpan[] started = [];
        private IReadOnlyDictionary<int, TimeSpan>[] compilingStarted = [];
        private TimeSpan clientStarted;
        private (TimeSpan Busy, TimeSpan Idle) machineStarted;

        public void Start()
        {
            started = [.. processes.Select(p => ProcessCpu.Of(p.ProcessId))];
            compilingStarted = [.. processes.Select(p => ProcessCpu.CompilingThreadsOf(p.ProcessId))];
            clientStarted = ProcessCpu.OwnOf(Environment.ProcessId);
            machineStarted = ProcessCpu.Machine();
        }

        /// <summary>CPU time per event, in µs, of the process named <paramref name="name"/> since <see cref="Start"/>.</summary>
        public double Micros(string name, int events) => Used().Single(u => u.Name == name).Total.TotalMicroseconds / events;

        /// <summary>The part of the CPU used since <see cref="Start"/> that went to compiling.</summary>
        public double CompilingShare()
        {
            var used = Used();
            var total = used.Sum(u => u.Total.TotalSeconds);
            return total > 0 ? used.Sum(u => u.Compiling.TotalSeconds) / total : 0;
        }

        public string Report(int events)
        {
            var used = Used()
                .Select(u => (u.Name, Micros: u.Total.TotalMicroseconds / events, Compiling: u.Compiling.TotalMicroseconds / events))
                .Where(u => u.Micros >= 0.5)
                .Select(u => u.Compiling >= 0.05 ? $"{u.Name} {u.Micros:0.0} µs ({u.Compiling:0.0} compiling)" : $"{u.Name} {u.Micros:0.0} µs");
            var client = (ProcessCpu.OwnOf(Environment.ProcessId) - clientStarted).TotalMicroseconds / events;
            var machine = ProcessCpu.Machine();
            var busy = machine.Busy - machineStarted.Busy;
            var busyShare = busy / (busy + machine.Idle - machineStarted.Idle);
            return $"    CPU per event: {string.Join(", ", used)}; bench client {client:0.0} µs; cores {busyShare:P0} busy";
        }

        private (string Name, TimeSpan Total, TimeSpan Compiling)[] Used() => [.. processes.Select((p, i) => (
            p.Name,
            ProcessCpu.Of(p.ProcessId) - started[i],
            ProcessCpu.CompilingThreadsOf(p.ProcessId).Aggregate(TimeSpan.Zero,
                (sum, thread) => sum + thread.Value - compilingStarted[i].GetValueOrDefault(thread.Key))))];
    }

    /// <summary>Stores rounds of events through <paramref name="client"/> until the fab's compiling has settled.</summary>
    internal static async Task<string> SettleAsync(BenchFab fab, HttpClient client, CpuPerEvent cpu, CancellationToken cancellationToken, int failEvery = 0)
    {
        var compiling = 1.0;
        var rounds = 0;
        while (rounds < MaxWarmUpRounds && compiling > SettledCompilingShare)
        {
            cpu.Start();
            await StoreAllAsync(fab, client, WarmUpRoundEvents, cancellationToken, failEvery);
            compiling = cpu.CompilingShare();
            rounds++;
        }
        return $"warm-up: {WarmUpEvents + rounds * WarmUpRoundEvents:N0} events; in the last {WarmUpRoundEvents:N0} the JIT used {compiling:P1} of the CPU";
    }

    /// <summary>Posts <paramref name="events"/> fresh events through <paramref name="client"/> and waits until the site stored them.</summary>
    internal static async Task StoreAllAsync(BenchFab fab, HttpClient client, int events, CancellationToken cancellationToken, int failEvery = 0)
    {
        var before = await fab.NewestSeqAsync(cancellationToken);
        await Measure.PostAllAsync(client, "/v1/ingest/events:batch",
            EventGenerator.Batches(BenchFab.Site, events, BatchSize, Connections, failEvery), Connections, cancellationToken);
        await WaitUntilStoredAsync(fab, before, events, cancellationToken);
    }

    internal static async Task WaitUntilStoredAsync(BenchFab fab, long before, int events, CancellationToken cancellationToken)
    {
        while (await fab.NewestSeqAsync(cancellationToken) - before < events)
            await Task.Delay(20, cancellationToken);
    }

    /// <summary>(a): copies <paramref name="events"/> rows; <paramref name="cpu"/> is started once they are generated.</summary>
    private static async Task<double> RawCopyAsync(NpgsqlDataSource dataSource, int events, CpuPerEvent? cpu, CancellationToken cancellationToken)
    {
        var rows = EventGenerator.Lots(BenchFab.Site, events)
            .Select(e => (Event: e, Payload: JsonSerializer.Serialize(e, WireJson.Options)))
            .Chunk(BatchSize).ToList();
        await using (var create = dataSource.CreateCommand($"""
            DROP TABLE IF EXISTS bench_raw_event;
            CREATE TABLE bench_raw_event (LIKE event INCLUDING DEFAULTS INCLUDING INDEXES);
            {BenchFab.CheckpointSql};
            """))
            await create.ExecuteNonQueryAsync(cancellationToken);
        var next = -1;
        cpu?.Start();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            int index;
            while ((index = Interlocked.Increment(ref next)) < rows.Count)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var importer = await connection.BeginBinaryImportAsync("""
                    COPY bench_raw_event (ingested_at, idempotency_key, site_id, app_id, entity_type, entity_id, parent_id, kind, at, status, payload)
                    FROM STDIN (FORMAT BINARY)
                    """, cancellationToken))
                {
                    var now = DateTime.UtcNow;
                    // The same values and binary types as LocalApi's EventCopyRows (seq from the column default here), so (a)
                    // measures the same rows.
                    foreach (var (e, payload) in rows[index])
                    {
                        await importer.StartRowAsync(cancellationToken);
                        await importer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                        await importer.WriteAsync(e.IdempotencyKey, NpgsqlDbType.Text, cancellationToken);
                        await importer.WriteAsync(e.SiteId, NpgsqlDbType.Text, cancellationToken);
                        await importer.WriteAsync(e.App.AppId, NpgsqlDbType.Uuid, cancellationToken);
                        await importer.WriteAsync(e.Entity.Type, NpgsqlDbType.Text, cancellationToken);
                        await importer.WriteAsync(e.Entity.Id, NpgsqlDbType.Uuid, cancellationToken);
                        if (e.Entity.ParentId is { } parent)
                            await importer.WriteAsync(parent, NpgsqlDbType.Uuid, cancellationToken);
                        else
                            await importer.WriteNullAsync(cancellationToken);
                        await importer.WriteAsync(e.Event.Kind, NpgsqlDbType.Text, cancellationToken);
                        await importer.WriteAsync(e.Event.At.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                        if (e.Event.Status is { } status)
                            await importer.WriteAsync(status, NpgsqlDbType.Text, cancellationToken);
                        else
                            await importer.WriteNullAsync(cancellationToken);
                        await importer.WriteAsync(payload, NpgsqlDbType.Jsonb, cancellationToken);
                    }
                    await importer.CompleteAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
            }
        }));
        var rate = events / Stopwatch.GetElapsedTime(started).TotalSeconds;
        await using (var drop = dataSource.CreateCommand("DROP TABLE bench_raw_event"))
            await drop.ExecuteNonQueryAsync(cancellationToken);
        return rate;
    }
}
