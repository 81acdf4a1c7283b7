using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.LocalApi.Storage;

/// <summary>The seed's database series: operations by kind, table and outcome with their duration, and the pool's size.</summary>
internal sealed class DbMetrics : IDisposable
{
    private readonly Counter<long> operations;
    private readonly Histogram<double> duration;
    private readonly MeterListener npgsqlListener = new();
    private long connectionsInUse;

    public DbMetrics(IMeterFactory meterFactory, IOptions<LocalApiOptions> options)
    {
        var meter = meterFactory.Create(Ingest.IngestMetrics.MeterName);
        operations = meter.CreateCounter<long>("db_operations_total", description: "Database operations by operation, table and status.");
        duration = meter.CreateHistogram<double>("db_operation_duration_seconds", unit: "s",
            description: "Database operation duration.", tags: null, advice: DurationBuckets.Seconds);
        meter.CreateObservableGauge("db_pool_size", () => options.Value.MaxPoolSize, description: "Maximum connections in the pool.");
        meter.CreateObservableGauge("db_pool_available", () => options.Value.MaxPoolSize - Interlocked.Read(ref connectionsInUse),
            description: "Connections the pool can still hand out (idle or not yet opened).");

        // Npgsql reports its pool only through its own meter (the statistics property is internal): follow the
        // up-down counter of connections in the "used" state.
        npgsqlListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.connection.count")
                listener.EnableMeasurementEvents(instrument);
        };
        npgsqlListener.SetMeasurementEventCallback<int>(OnConnectionCount);
        npgsqlListener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => OnConnectionCount(instrument, (int)value, tags, state));
        npgsqlListener.Start();
    }

    private void OnConnectionCount(Instrument instrument, int delta, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "db.client.connection.state" && tag.Value as string == "used")
                Interlocked.Add(ref connectionsInUse, delta);
        }
    }

    public void Dispose() => npgsqlListener.Dispose();

    /// <inheritdoc cref="MeasureAsync{T}"/>
    public Task MeasureAsync(string operation, string table, Func<Task> run) =>
        MeasureAsync(operation, table, async () =>
        {
            await run();
            return true;
        });

    /// <summary>Runs one database operation, recording its count, outcome and duration, and a span for traces.</summary>
    public async Task<T> MeasureAsync<T>(string operation, string table, Func<Task<T>> run)
    {
        var started = Stopwatch.GetTimestamp();
        var status = "error";
        using var span = LocalApiTelemetry.Source.StartActivity($"db.{operation} {table}", ActivityKind.Internal);
        span?.SetTag("db.operation.name", operation);
        span?.SetTag("db.collection.name", table);
        try
        {
            var result = await run();
            status = "ok";
            return result;
        }
        finally
        {
            if (status != "ok")
                span?.SetStatus(ActivityStatusCode.Error);
            var tags = new TagList { { "operation", operation }, { "table", table } };
            duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            tags.Add("status", status);
            operations.Add(1, tags);
        }
    }
}
