using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using WaferMonitor.Tests.Parquet;

namespace WaferMonitor.Tests.Archive;

/// <summary>
/// A private archive topology: a fresh site's database on the fab's PostgreSQL server, a local s3rver, a LocalApi and
/// an Archiver whose schedule never fires on its own (a one-day lag), so every window is closed by the test through
/// <c>POST /v1/archive/run?through=now</c>.
/// </summary>
internal sealed class ArchiveRig : IAsyncDisposable
{
    public const string Prefix = "wafermonitor";

    private readonly string stateDirectory;

    private ArchiveRig(string stateDirectory, DistributedApplication app, string site)
    {
        this.stateDirectory = stateDirectory;
        App = app;
        Site = site;
    }

    public DistributedApplication App { get; }
    public string Site { get; }
    public ProjectResource LocalApi => App.Get<ProjectResource>("localapi");
    public ProjectResource Archiver => App.Get<ProjectResource>("archiver");
    public S3Resource S3 => App.Get<S3Resource>("s3");
    public string ConnectionString => App.Get<DatabaseResource>($"monitor-{Site}").ConnectionString;

    public static async Task<ArchiveRig> StartAsync(
        FabFixture fab,
        IReadOnlyDictionary<string, string>? archiverEnvironment = null,
        IReadOnlyDictionary<string, string>? localApiEnvironment = null)
    {
        var site = "arc" + Guid.NewGuid().ToString("N")[..6];
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-" + site);
        var builder = new DistributedApplicationBuilder(stateDirectory);
        var postgres = builder.AddPostgres("postgres", fab.PostgresConnectionString);
        var database = builder.AddDatabase(postgres, $"monitor-{site}");
        var s3 = builder.AddS3("s3", "archive-test");
        var localApi = builder.AddProject("localapi", "LocalApi")
            .WithReference(database, connectionName: "monitor")
            .WithEnvironment("LocalApi__SiteId", site);
        var archiver = builder.AddProject("archiver", "Archiver")
            .WithReference(database, connectionName: "monitor")
            .WithReference(s3)
            .WaitFor(localApi)
            .WithEnvironment("Archiver__SiteId", site)
            .WithEnvironment("Archiver__S3__Prefix", Prefix)
            .WithEnvironment("Archiver__WindowLag", "1d")
            .WithEnvironment("Archiver__Interval", "1d")
            .WithEnvironment("Archiver__S3__MaxErrorRetry", "1");
        foreach (var (key, value) in archiverEnvironment ?? new Dictionary<string, string>())
            archiver.WithEnvironment(key, value);
        foreach (var (key, value) in localApiEnvironment ?? new Dictionary<string, string>())
            localApi.WithEnvironment(key, value);
        var app = builder.Build(TextWriter.Null, quiet: true);
        try
        {
            await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new ArchiveRig(stateDirectory, app, site);
    }

    public HttpClient Client(string resource) => App.CreateHttpClient(resource);

    public async Task<RunSummaryDto> RunThroughNowAsync()
    {
        using var client = Client("archiver");
        using var response = await client.PostAsync("/v1/archive/run?through=now", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"archive run answered {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<RunSummaryDto>(body, WireJson.Options)!;
    }

    public async Task IngestAsync(IEnumerable<WireEvent> events)
    {
        using var client = Client("localapi");
        var result = await Events.PostBatchAsync(client, events);
        Assert.Empty(result.Rejected);
    }

    /// <summary>The bucket's objects as s3rver stores them on disk: key → bytes.</summary>
    public Dictionary<string, byte[]> Objects()
    {
        const string suffix = "._S3rver_object";
        var bucket = Path.Combine(S3.DataDirectory!, S3.Bucket);
        return Directory.EnumerateFiles(bucket, "*" + suffix, SearchOption.AllDirectories)
            .ToDictionary(
                path => Path.GetRelativePath(bucket, path)[..^suffix.Length].Replace(Path.DirectorySeparatorChar, '/'),
                File.ReadAllBytes,
                StringComparer.Ordinal);
    }

    /// <summary>Copies the bucket to a directory laid out by key, for DuckDB's hive-partitioned globbing.</summary>
    public string CopyObjectsTo(TempDirectory directory)
    {
        foreach (var (key, bytes) in Objects())
        {
            var path = Path.Combine(directory.Path, key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        return directory.Path;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public Task<List<object?[]>> QueryAsync(string sql, params (string Name, object Value)[] parameters) =>
        Sql.QueryAsync(ConnectionString, sql, parameters);

    public async Task<T> GetJsonAsync<T>(string path)
    {
        using var client = Client("archiver");
        return (await client.GetFromJsonAsync<T>(path, WireJson.Options))!;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        FabFixture.TryDelete(stateDirectory);
    }
}

public sealed record RunSummaryDto(int Windows, int Objects, long Rows, long Bytes, DateTimeOffset? Through);

public sealed record StatusDto(DateTimeOffset? LastRunAt, long WindowsArchived, long WindowsPending, double? LagSeconds, long BytesArchived, string? LastError);

public sealed record SubjobCountsDto(int Total, int Running, int Succeeded, int Failed, int Canceled);

public sealed record ArchivedJobDto(
    Guid JobId, string SiteId, Guid AppId, string AppName, string AppVersion, string? JobKey, string Status, DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt, double? DurationS, double? CpuUserS, double? CpuSystemS, double? MemMaxMb, JsonElement? Metadata,
    DateTimeOffset LastEventAt, SubjobCountsDto Subjobs, DateTimeOffset SnapshotAt);

public sealed record ArchivedSubjobDto(Guid SubjobId, Guid JobId, string? SubKey, string Status, DateTimeOffset SnapshotAt);

public sealed record ArchivedPageDto(List<ArchivedJobDto> Items, int Count, string? NextCursor);

public sealed record ArchivedDetailDto(ArchivedJobDto Job, List<ArchivedSubjobDto> Subjobs);
