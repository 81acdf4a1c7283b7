using System.Text.Json;
using WaferMonitor.Rigs;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Fab;

/// <summary>The committed Aspire manifest (deploy/aspire/manifest.json) is what the AppHost publishes today.</summary>
public sealed class ManifestTests
{
    private static readonly string Committed = Path.Combine(RepositoryLayout.Root, "deploy", "aspire", "manifest.json");

    [Fact]
    public async Task The_committed_manifest_is_what_the_apphost_publishes()
    {
        // Beside the committed one, so the project paths in it are relative to the same folder.
        var generated = Path.Combine(Path.GetDirectoryName(Committed)!, $"manifest.{Guid.NewGuid():N}.json");
        try
        {
            var info = BuiltAssembly.StartInfo("WaferMonitor.AppHost", "WaferMonitor.AppHost", ["--publisher", "manifest", "--output-path", generated]);
            using var process = System.Diagnostics.Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await output + await error);

            Assert.Equal(await File.ReadAllTextAsync(Committed), await File.ReadAllTextAsync(generated));
        }
        finally
        {
            File.Delete(generated);
        }
    }

    [Fact]
    public async Task The_manifest_carries_the_services_a_postgres_server_with_site_databases_and_secret_parameters()
    {
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Committed));
        var resources = manifest.RootElement.GetProperty("resources");
        string Type(string name) => resources.GetProperty(name).GetProperty("type").GetString()!;

        foreach (var service in FabFixture.Services)
        {
            Assert.Equal("project.v0", Type(service));
            Assert.True(resources.GetProperty(service).GetProperty("bindings").TryGetProperty("http", out _), service);
        }
        Assert.Equal("container.v0", Type("postgres"));
        foreach (var site in new[] { "fab1", "fab2" })
        {
            Assert.Equal("{postgres.connectionString};Database=monitor_" + site, resources.GetProperty("monitor-" + site).GetProperty("connectionString").GetString());
            var localApi = resources.GetProperty("localapi-" + site).GetProperty("env");
            Assert.Equal("{monitor-" + site + ".connectionString}", localApi.GetProperty("ConnectionStrings__monitor").GetString());
            var archiver = resources.GetProperty("archiver-" + site).GetProperty("env");
            Assert.Equal("{s3-secret-key.value}", archiver.GetProperty("Archiver__S3__SecretKey").GetString());
        }
        foreach (var secret in new[] { "postgres-password", "s3-access-key", "s3-secret-key", "operator-token", "localapi-fab1-ingest-key", "localapi-fab1-read-token" })
        {
            Assert.Equal("parameter.v0", Type(secret));
            Assert.True(resources.GetProperty(secret).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), secret);
        }
        Assert.DoesNotContain("127.0.0.1", manifest.RootElement.GetRawText());
    }
}
