using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Options;
using WaferMonitor.Archiver.Archive;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.ReadBack;
using WaferMonitor.Archiver.Storage;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Archiver;

internal static class ArchiverExtensions
{
    public const string ConnectionName = "monitor";

    public static WebApplicationBuilder AddArchiver(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ArchiverOptions>(ArchiverOptions.SectionName);
        services.AddValidatedOptions<ArchiveS3Options>(ArchiveS3Options.SectionName);
        services.AddServiceSite("Archiver:SiteId");
        builder.AddSiteDatabase(ConnectionName);

        services.AddSingleton<IAmazonS3>(sp => CreateS3Client(sp.GetRequiredService<IOptions<ArchiveS3Options>>().Value,
            sp.GetRequiredService<IOptions<SecurityOptions>>().Value.TrustedCaFile));
        services.AddSingleton<IArchiveFileFormat>(sp => new ParquetArchiveFormat(
            new ParquetWriteOptions { Compression = sp.GetRequiredService<IOptions<ArchiverOptions>>().Value.Compression }));
        services.AddSingleton<ArchiveMetrics>();
        services.AddSingleton<ArchiveObjectStore>();
        services.AddSingleton<ArchiveManifest>();
        services.AddSingleton<WindowExporter>();
        services.AddSingleton<ArchiveRunner>();
        services.AddSingleton<ArchiveReadBack>();
        services.AddHostedService<ArchiveWorker>();
        services.AddHealthChecks().AddCheck<ArchiveBucketHealthCheck>("s3");
        return builder;
    }

    public static WebApplication MapArchiver(this WebApplication app)
    {
        app.MapArchiveEndpoints();
        app.MapReadBackEndpoints();
        return app;
    }

    private static AmazonS3Client CreateS3Client(ArchiveS3Options options, string? trustedCaFile)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = options.MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
            // s3rver and several S3-compatible stores reject the SDK's default trailing CRC checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            AuthenticationRegion = options.Region,
        };
        if (!string.IsNullOrEmpty(trustedCaFile))
            config.HttpClientFactory = new SiteCaHttpClientFactory(trustedCaFile);
        if (string.IsNullOrEmpty(options.ServiceUrl))
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        else
            config.ServiceURL = options.ServiceUrl;
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }
}

/// <summary>The AWS SDK's HTTP clients trust the site CA of <c>Security:TrustedCaFile</c>, as every other client of ours does.</summary>
internal sealed class SiteCaHttpClientFactory(string caFile) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(TrustedCaFile.Handler(caFile));
}
