using System.CommandLine;

namespace WaferMonitor.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project WaferMonitor.Benchmarks -- [sidecar|ingest|ingest-fingerprinting|queries|ui|central|parquet|archive|alerts|all|scale]</c>:
/// starts a fab on a durable PostgreSQL in a temporary directory, prints measurements, stops everything. <c>scale</c>
/// (half an hour) is not part of <c>all</c>.
/// </summary>
internal static class BenchCommand
{
    public static RootCommand Create()
    {
        var which = new Argument<string>("benchmark")
        {
            Description = "sidecar, ingest, ingest-fingerprinting (only the last part of ingest), queries, ui, central, parquet, archive, alerts, all, or scale (a full-size site, not part of all)",
            DefaultValueFactory = _ => "all",
        };
        which.AcceptOnlyFromAmong("sidecar", "ingest", "ingest-fingerprinting", "queries", "ui", "central", "parquet", "archive", "alerts", "all", "scale");
        var events = new Option<int>("--events") { Description = "Events per ingest measurement; for scale, events in the site (default 20,000,000)", DefaultValueFactory = _ => 200_000 };
        var jobs = new Option<int>("--jobs") { Description = "Jobs in the query data set; for scale, lots in the site (default events / 60)", DefaultValueFactory = _ => 1_000_000 };
        var sustain = new Option<int>("--sustain-minutes") { Description = "scale: minutes of sustained ingest", DefaultValueFactory = _ => 10 };
        var ids = new Option<string>("--ids")
        {
            Description = "scale: idempotency keys and entity ids of the load during retention, sustained ingest and the restart: random (the v2 SDK's) or time-ordered (the WaferMonitor SDK's)",
            DefaultValueFactory = _ => "random",
        };
        ids.AcceptOnlyFromAmong("random", "time-ordered");
        var rows = new Option<int>("--rows") { Description = "Rows for the Parquet benchmark", DefaultValueFactory = _ => 1_000_000 };
        var postgres = new Option<string?>("--postgres") { Description = "Measure against this PostgreSQL server instead of an embedded one" };
        var postgresSettings = new Option<string[]>("--postgres-setting")
        {
            Description = "name=value: a setting of the embedded PostgreSQL over the product's own, to compare settings (repeatable)",
        };
        var command = new RootCommand("Runs WaferMonitor's performance measurements and prints the numbers.") { which, events, jobs, rows, postgres, postgresSettings, sustain, ids };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var selected = parse.GetValue(which)!;
            bool Runs(string name) => selected == name || selected == "all";
            var output = Console.Out;
            if (Runs("parquet"))
                await ParquetBenchmark.RunAsync(parse.GetValue(rows), output, cancellationToken);
            if (Runs("archive"))
                await ArchiveBenchmark.RunAsync(parse.GetValue(events), output, cancellationToken);
            if (selected == "scale")
            {
                await using var site = await BenchFab.StartAsync(parse.GetValue(postgres), parse.GetValue(postgresSettings) ?? [], output, cancellationToken);
                await ScaleBenchmark.RunAsync(site, parse.GetResult(events) is { Implicit: false } ? parse.GetValue(events) : 20_000_000,
                    parse.GetResult(jobs) is { Implicit: false } ? parse.GetValue(jobs) : null, TimeSpan.FromMinutes(parse.GetValue(sustain)),
                    parse.GetValue(ids) == "time-ordered" ? IdLayout.TimeOrdered : IdLayout.Random, output, cancellationToken);
                return 0;
            }
            if (!Runs("sidecar") && !Runs("ingest") && !Runs("ingest-fingerprinting") && !Runs("queries") && !Runs("ui") && !Runs("central") && !Runs("alerts"))
                return 0;
            await using var fab = await BenchFab.StartAsync(parse.GetValue(postgres), parse.GetValue(postgresSettings) ?? [], output, cancellationToken,
                withUnfingerprintedLocalApi: Runs("ingest") || selected == "ingest-fingerprinting");
            if (Runs("sidecar"))
                await SidecarBenchmark.RunAsync(fab, parse.GetValue(events), output, cancellationToken);
            if (Runs("ingest"))
                await IngestBenchmark.RunAsync(fab, parse.GetValue(events), output, cancellationToken);
            if (selected == "ingest-fingerprinting")
                await FingerprintingBenchmark.RunAsync(fab, parse.GetValue(events), output, cancellationToken);
            if (Runs("central"))
                await RunCentralAsync(fab, output, cancellationToken);
            if (Runs("queries"))
                await QueryBenchmark.RunAsync(fab, parse.GetValue(jobs), output, cancellationToken);
            if (Runs("ui"))
                await UiBenchmark.RunAsync(fab, parse.GetValue(jobs), output, cancellationToken);
            if (Runs("alerts"))
                await AlertsBenchmark.RunAsync(fab, parse.GetValue(jobs), output, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>Central fan-out over both sites, each holding some thousand recent jobs.</summary>
    private static async Task RunCentralAsync(BenchFab fab, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine("== central fan-out over two sites ==");
        foreach (var site in new[] { BenchFab.Site, BenchFab.OtherSite })
        {
            using var localApi = fab.Client($"localapi-{site}");
            await Measure.PostAllAsync(localApi, "/v1/ingest/events:batch", EventGenerator.Batches(site, 100_000, 1000), 4, cancellationToken);
        }
        await CentralBenchmark.RunAsync(fab.App.GetEndpoint("central"), fab.App.AccessKey, output, cancellationToken);
    }
}
