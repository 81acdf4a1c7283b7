using Microsoft.Extensions.Logging;

namespace WaferMonitor.Sdk.Client;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "WaferMonitor sidecar {Url} unreachable ({Reason}); events stay queued and are retried")]
    public static partial void SidecarUnavailable(ILogger logger, Uri url, string reason);

    [LoggerMessage(2, LogLevel.Debug, "WaferMonitor send attempt {Attempt} failed ({Reason}); next in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Information, "WaferMonitor sidecar {Url} reachable again")]
    public static partial void SidecarRecovered(ILogger logger, Uri url);

    [LoggerMessage(4, LogLevel.Warning, "WaferMonitor sidecar rejected a {Kind} event ({Code}): {Error}")]
    public static partial void EventRejected(ILogger logger, string kind, string code, string error);

    [LoggerMessage(5, LogLevel.Warning, "WaferMonitor sidecar refused a batch of {Count} events with HTTP {Status}; they are dropped")]
    public static partial void BatchRefused(ILogger logger, int count, int status);

    [LoggerMessage(6, LogLevel.Warning, "WaferMonitor queue full ({Capacity} events): dropped a {Kind} event, {Total} dropped so far")]
    public static partial void QueueFull(ILogger logger, int capacity, string kind, long total);

    [LoggerMessage(7, LogLevel.Warning, "WaferMonitor could not record a {Kind} event")]
    public static partial void EmitFailed(ILogger logger, Exception exception, string kind);

    [LoggerMessage(8, LogLevel.Warning, "WaferMonitor shut down with {Count} events not delivered")]
    public static partial void ShutdownDropped(ILogger logger, int count);

    [LoggerMessage(9, LogLevel.Error, "WaferMonitor sender failed unexpectedly; it keeps running")]
    public static partial void SenderFailed(ILogger logger, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "WaferMonitor metadata of a {Kind} event is {Bytes} bytes, over the {Limit}-byte limit; it was replaced by a marker")]
    public static partial void MetadataTooLarge(ILogger logger, string kind, int bytes, int limit);
}
