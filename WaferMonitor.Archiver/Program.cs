using System.Globalization;
using WaferMonitor.Archiver;
using WaferMonitor.Archiver.Parquet;

// The AppHost's `bench parquet` runs the Parquet benchmark here, where the Parquet code lives.
if (args is ["bench-parquet", var rows])
{
    await ParquetBenchmark.RunAsync(int.Parse(rows, CultureInfo.InvariantCulture), Console.Out, CancellationToken.None);
    return 0;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(defaultPort: 18100);
builder.AddArchiver();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapArchiver();
return await app.RunServiceAsync();
