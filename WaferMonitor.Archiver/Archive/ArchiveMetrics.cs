using System.Diagnostics.Metrics;

namespace WaferMonitor.Archiver.Archive;

/// <summary>The archive's meters; the gauges show the last status the worker computed.</summary>
internal sealed class ArchiveMetrics
{
    public const string MeterName = "WaferMonitor.Archiver";

    private readonly Counter<long> windows;
    private readonly Counter<long> rows;
    private readonly Counter<long> bytes;
    private readonly Counter<long> uploads;
    private readonly Counter<long> runs;
    private ArchiveStatus status = ArchiveStatus.Empty;

    public ArchiveMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        windows = meter.CreateCounter<long>("archive_windows_archived_total", description: "Ingest windows committed to the archive.");
        rows = meter.CreateCounter<long>("archive_rows_total", description: "Rows written to the archive, by table.");
        bytes = meter.CreateCounter<long>("archive_bytes_total", unit: "By", description: "Parquet bytes uploaded to the archive.");
        uploads = meter.CreateCounter<long>("archive_uploads_total", description: "Objects uploaded, by method (single or multipart).");
        runs = meter.CreateCounter<long>("archive_runs_total", description: "Archive runs, by outcome.");
        meter.CreateObservableGauge("archive_windows_pending", () => status.WindowsPending, description: "Closed windows not yet archived.");
        meter.CreateObservableGauge("archive_lag_seconds", () => status.LagSeconds ?? 0, unit: "s",
            description: "How far the archived-through watermark is behind now.");
        // No unit: the Prometheus exporter would append it, making the documented name archive_bytes_archived_bytes.
        meter.CreateObservableGauge("archive_bytes_archived", () => status.BytesArchived, description: "Bytes in committed windows.");
        meter.CreateObservableGauge("archive_windows_archived", () => status.WindowsArchived, description: "Committed windows.");
    }

    public void RecordWindow(IEnumerable<(string Table, long Rows)> tableRows, long windowBytes)
    {
        windows.Add(1);
        foreach (var (table, count) in tableRows)
            rows.Add(count, new KeyValuePair<string, object?>("table", table));
        bytes.Add(windowBytes);
    }

    public void RecordUpload(bool multipart) => uploads.Add(1, new KeyValuePair<string, object?>("method", multipart ? "multipart" : "single"));

    public void RecordRun(bool succeeded) => runs.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));

    public void Observe(ArchiveStatus current) => status = current;
}
