using System.ComponentModel.DataAnnotations;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Archiver;

/// <summary>Bound from <c>Archiver</c>.</summary>
public sealed class ArchiverOptions
{
    public const string SectionName = "Archiver";

    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a site id such as fab1")]
    public string SiteId { get; set; } = "";

    /// <summary>How often the worker looks for closed windows.</summary>
    public Duration Interval { get; set; } = Duration.FromMinutes(1);

    /// <summary>
    /// How long after its end an hourly window is closed: ingest transactions that began before the end have committed
    /// by then (the worker also waits for any still open).
    /// </summary>
    public Duration WindowLag { get; set; } = Duration.FromMinutes(5);

    /// <summary>A running job with no event for this long is settled and snapshotted; keep it equal to LocalApi's Retention:Hot.</summary>
    public Duration HotWindow { get; set; } = Duration.FromHours(72);

    /// <summary>Page compression of the Parquet objects written from now on (<c>zstd</c>, <c>gzip</c>, <c>snappy</c>, <c>none</c>); any mix reads back.</summary>
    [EnumDataType(typeof(ParquetCompression))]
    public ParquetCompression Compression { get; set; } = ParquetWriteOptions.DefaultCompression;

    /// <summary>
    /// Test hook for the crash-recovery test: the process fails fast after a window's objects are uploaded and before
    /// its manifest is committed. Never set it in production.
    /// </summary>
    public bool CrashAfterUploadForTesting { get; set; }
}

/// <summary>Bound from <c>Archiver:S3</c>.</summary>
public sealed class ArchiveS3Options : IValidatableObject
{
    public const string SectionName = "Archiver:S3";

    /// <summary>An S3-compatible endpoint (s3rver, MinIO); empty means AWS itself, addressed by <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    [Required]
    public string Region { get; set; } = "us-east-1";

    [Required, RegularExpression("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", ErrorMessage = "must be an S3 bucket name")]
    public string Bucket { get; set; } = "wafermonitor-archive";

    /// <summary>Key prefix in front of <c>site=…/table=…/date=…/</c>; empty for the bucket root.</summary>
    [RegularExpression("^([^/].*[^/]|[^/])?$", ErrorMessage = "must not start or end with '/'")]
    public string Prefix { get; set; } = "wafermonitor";

    /// <summary>With <see cref="SecretKey"/>; when both are empty the standard AWS credential chain is used.</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), which s3rver and most MinIO set-ups need.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Objects of at least this many bytes go up as multipart uploads.</summary>
    [Range(1L, long.MaxValue)]
    public long MultipartThreshold { get; set; } = 64L * 1024 * 1024;

    /// <summary>Part size of a multipart upload (AWS requires at least 5 MiB for every part but the last).</summary>
    [Range(1L, 5L * 1024 * 1024 * 1024)]
    public long PartSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>SDK retries (exponential backoff with jitter) of a failed request.</summary>
    [Range(0, 20)]
    public int MaxErrorRetry { get; set; } = 5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
            yield return new ValidationResult("AccessKey and SecretKey must be set together (or neither, for the AWS credential chain)",
                [string.IsNullOrEmpty(AccessKey) ? nameof(AccessKey) : nameof(SecretKey)]);
        if (!string.IsNullOrEmpty(ServiceUrl) && !Uri.TryCreate(ServiceUrl, UriKind.Absolute, out _))
            yield return new ValidationResult("must be an absolute URL such as http://127.0.0.1:4568", [nameof(ServiceUrl)]);
    }
}
