using System.Globalization;
using System.Text;
using CsvHelper;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Integrations.Sinks;

/// <summary>
/// Appends terminal events to <c>&lt;Directory&gt;/&lt;name&gt;-&lt;yyyy-MM-dd&gt;.csv</c> (or <c>.jsonl</c>), one file per
/// UTC day of the clock at writing, for the fab's data lake to pick up once the day is over. A batch is flushed to disk
/// before it counts as delivered.
/// </summary>
internal sealed class FileExportSink(string name, FileExportOptions options, TimeProvider clock) : IIntegrationSink
{
    /// <summary>The CSV columns, in order; the header line of every CSV file.</summary>
    public static readonly string[] CsvColumns =
    [
        "seq", "idempotency_key", "site_id", "app_id", "app_name", "app_version", "entity_type", "entity_id", "parent_id",
        "business_key", "sub_key", "kind", "status", "at", "duration_s", "cpu_user_s", "cpu_system_s", "mem_max_mb", "metadata",
    ];

    public int MaxBatch => int.MaxValue;

    /// <summary>The file written at <paramref name="now"/>.</summary>
    public string PathAt(DateTimeOffset now) =>
        Path.Combine(options.Directory, $"{name}-{now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.{options.Format}");

    // Not cancelled part-way: a batch half written would be written again in full by the retry.
    public async Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Directory);
        var path = PathAt(clock.GetUtcNow());
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        if (options.Format == "csv")
        {
            await using var csv = CsvWriter.Create(file, options: null, leaveOpen: true);
            if (file.Position == 0)
                csv.WriteRecord(CsvColumns);
            foreach (var e in events)
                csv.WriteRecord(CsvRecord(e));
        }
        else
        {
            await using var writer = new StreamWriter(file, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            foreach (var e in events)
                await writer.WriteLineAsync(e.EnvelopeJson());
        }
        file.Flush(flushToDisk: true);
    }

    private static string?[] CsvRecord(IntegrationEvent e)
    {
        var wire = e.Event;
        return
        [
            e.Seq.ToString(CultureInfo.InvariantCulture), wire.IdempotencyKey, wire.SiteId, wire.App.AppId.ToString(), wire.App.Name, wire.App.Version,
            wire.Entity.Type, wire.Entity.Id.ToString(), wire.Entity.ParentId?.ToString(), wire.Entity.BusinessKey, wire.Entity.SubKey,
            wire.Event.Kind, e.Status, wire.Event.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            Invariant(e.Metric(MetricNames.DurationSeconds)), Invariant(e.Metric(MetricNames.CpuUserSeconds)),
            Invariant(e.Metric(MetricNames.CpuSystemSeconds)), Invariant(e.Metric(MetricNames.MemMaxMb)),
            wire.Event.Metadata?.GetRawText(),
        ];
    }

    private static string? Invariant(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);
}
