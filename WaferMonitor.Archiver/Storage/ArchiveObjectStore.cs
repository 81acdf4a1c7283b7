using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using WaferMonitor.Archiver.Archive;

namespace WaferMonitor.Archiver.Storage;

/// <summary>The archive bucket: uploads (multipart above the threshold), listing, downloads, deletes.</summary>
internal sealed partial class ArchiveObjectStore(IAmazonS3 s3, IOptions<ArchiveS3Options> options, ArchiveMetrics metrics, ILogger<ArchiveObjectStore> logger)
{
    private ArchiveS3Options Options => options.Value;

    public string Bucket => Options.Bucket;

    // Uploads are signed over the whole payload instead of aws-chunked streaming: s3rver stores a chunked body
    // verbatim, signature frames included, and a file is at hand to hash anyway.

    /// <summary>Uploads a file under <paramref name="key"/>, replacing what is there (keys are deterministic, so a retry overwrites).</summary>
    public async Task PutFileAsync(string key, string path, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (length < Options.MultipartThreshold)
        {
            await s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Bucket, Key = key, FilePath = path, ContentType = "application/vnd.apache.parquet", UseChunkEncoding = false,
            }, cancellationToken);
            metrics.RecordUpload(multipart: false);
            return;
        }
        await PutMultipartAsync(key, path, length, cancellationToken);
        metrics.RecordUpload(multipart: true);
    }

    private async Task PutMultipartAsync(string key, string path, long length, CancellationToken cancellationToken)
    {
        var upload = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = Bucket, Key = key, ContentType = "application/vnd.apache.parquet",
        }, cancellationToken);
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long offset = 0; offset < length; offset += Options.PartSize, partNumber++)
            {
                var response = await s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = partNumber,
                    FilePath = path,
                    FilePosition = offset,
                    PartSize = Math.Min(Options.PartSize, length - offset),
                    UseChunkEncoding = false,
                }, cancellationToken);
                parts.Add(new PartETag(partNumber, response.ETag));
            }
            await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket, Key = key, UploadId = upload.UploadId, PartETags = parts,
            }, cancellationToken);
        }
        catch
        {
            // An abandoned upload keeps its parts (and their cost) until aborted.
            await s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = upload.UploadId },
                CancellationToken.None);
            throw;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);

    public async Task<List<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await s3.ListObjectsV2Async(request, cancellationToken);
            keys.AddRange((response.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return keys;
    }

    /// <summary>The whole object in memory: the Parquet reader needs to seek to the footer.</summary>
    public async Task<MemoryStream> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);
        var buffer = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
        await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;
        return buffer;
    }

    /// <summary>Null when the bucket answers; otherwise why the archive cannot write, in an operator's words.</summary>
    public async Task<string?> ProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            await s3.HeadBucketAsync(new HeadBucketRequest { BucketName = Bucket }, cancellationToken);
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound || ex.ErrorCode == "NoSuchBucket")
        {
            return $"bucket '{Bucket}' does not exist at {Endpoint}";
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return $"credentials rejected for bucket '{Bucket}' at {Endpoint}: {ex.ErrorCode} {ex.Message}".TrimEnd();
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogProbeFailed(ex);
            return $"S3 at {Endpoint} unreachable: {ex.Message}";
        }
    }

    private string Endpoint => string.IsNullOrEmpty(Options.ServiceUrl) ? $"AWS {Options.Region}" : Options.ServiceUrl;

    [LoggerMessage(Level = LogLevel.Debug, Message = "S3 probe failed")]
    private partial void LogProbeFailed(Exception exception);
}
