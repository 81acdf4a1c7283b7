using Microsoft.Extensions.Diagnostics.HealthChecks;
using RepositoryLayout = WaferMonitor.Rigs.RepositoryLayout;

namespace WaferMonitor.AppHost.Infrastructure;

/// <summary>Where the Archivers write Parquet: what each one is given, and the local server to wait for, if any.</summary>
public sealed record ArchiveStorage(
    IResourceBuilder<ExecutableResource>? LocalServer,
    ReferenceExpression ServiceUrl,
    ReferenceExpression Bucket,
    ReferenceExpression? AccessKey,
    ReferenceExpression? SecretKey);

public static class ArchiveStorageExtensions
{
    /// <summary>s3rver's built-in account.</summary>
    private const string S3rverAccount = "S3RVER";

    /// <summary>
    /// In run mode the S3 given by <c>--s3</c> (credentials from the AWS chain of the environment), else s3rver from npm
    /// (its <c>npm ci</c> a step it waits for) keeping objects in <c>&lt;state-dir&gt;/s3</c>; in publish mode parameters.
    /// </summary>
    public static ArchiveStorage AddArchiveStorage(this IDistributedApplicationBuilder builder, string name, FabOptions fab)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return new ArchiveStorage(null,
                Parameter(builder.AddParameter($"{name}-endpoint")),
                Parameter(builder.AddParameter($"{name}-bucket", fab.S3Bucket, publishValueAsDefault: true)),
                Parameter(builder.AddParameter($"{name}-access-key", secret: true)),
                Parameter(builder.AddParameter($"{name}-secret-key", secret: true)));
        }
        if (fab.S3Endpoint is { } external)
            return new ArchiveStorage(null, ReferenceExpression.Create($"{external.TrimEnd('/')}"), ReferenceExpression.Create($"{fab.S3Bucket}"), null, null);

        var tool = Path.Combine(RepositoryLayout.Root, "tools", "s3rver");
        var script = Path.Combine(tool, "node_modules", "s3rver", "bin", "s3rver.js");
        var dataDirectory = Path.Combine(fab.StateDirectory, "s3");
        Directory.CreateDirectory(dataDirectory);
        var server = builder.AddExecutable(name, "node", tool, script, "--directory", dataDirectory, "--address", "127.0.0.1", "--silent",
                "--configure-bucket", fab.S3Bucket)
            .WithHttpEndpoint(name: "http", isProxied: false);
        var endpoint = server.GetEndpoint("http");
        server.WithArgs(context =>
        {
            context.Args.Add("--port");
            context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
        });
        var healthCheck = $"{name}_answers";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheck, _ => new AnswersHttpCheck(endpoint), null, null));
        server.WithHealthCheck(healthCheck);
        if (!File.Exists(script))
            server.WaitForCompletion(builder.AddExecutable($"{name}-install", "npm", tool, "ci", "--prefix", tool, "--no-audit", "--no-fund", "--loglevel=error"));
        return new ArchiveStorage(server, ReferenceExpression.Create($"{endpoint}"), ReferenceExpression.Create($"{fab.S3Bucket}"),
            ReferenceExpression.Create($"{S3rverAccount}"), ReferenceExpression.Create($"{S3rverAccount}"));
    }

    public static IResourceBuilder<ProjectResource> WithArchiveStorage(this IResourceBuilder<ProjectResource> archiver, ArchiveStorage storage)
    {
        archiver
            .WithEnvironment("Archiver__S3__ServiceUrl", storage.ServiceUrl)
            .WithEnvironment("Archiver__S3__Bucket", storage.Bucket)
            .WithEnvironment("Archiver__S3__ForcePathStyle", "true");
        if (storage.AccessKey is not null && storage.SecretKey is not null)
        {
            archiver.WithEnvironment("Archiver__S3__AccessKey", storage.AccessKey)
                .WithEnvironment("Archiver__S3__SecretKey", storage.SecretKey);
        }
        return storage.LocalServer is null ? archiver : archiver.WaitFor(storage.LocalServer);
    }

    private static ReferenceExpression Parameter(IResourceBuilder<ParameterResource> parameter) =>
        ReferenceExpression.Create($"{parameter.Resource}");

    /// <summary>Up once it answers HTTP at all: an anonymous request may be refused, which still proves it is up.</summary>
    private sealed class AnswersHttpCheck(EndpointReference endpoint) : IHealthCheck
    {
        private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(2) };

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var response = await Client.GetAsync(endpoint.Url, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        }
    }
}
