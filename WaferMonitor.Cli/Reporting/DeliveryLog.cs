using Microsoft.Extensions.Logging;
using WaferMonitor.Sdk.Client;

namespace WaferMonitor.Cli.Reporting;

/// <summary>
/// The SDK's logger. Its warnings become one stderr line each while the command runs; during the final flush they
/// are held back, and the flush's own summary names the last reason instead, so an unreachable sidecar costs one line.
/// Failed send attempts are counted so that the final flush can stop waiting for a sidecar that is down.
/// </summary>
internal sealed class DeliveryLog : ILogger<MonitorClient>
{
    private int _failedAttempts;

    public int FailedAttempts => Volatile.Read(ref _failedAttempts);

    /// <summary>Why the last send attempt failed (connection refused, HTTP 503, …), or null.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>While true, warnings are not printed (the final flush summarises them).</summary>
    public bool Quiet { get; set; }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // The SDK logs "RetryScheduled" (debug, with the reason) after every failed send attempt.
        if (eventId.Name == "RetryScheduled")
        {
            LastFailure = (state as IEnumerable<KeyValuePair<string, object?>>)?.FirstOrDefault(p => p.Key == "Reason").Value?.ToString();
            Interlocked.Increment(ref _failedAttempts);
        }
        if (logLevel >= LogLevel.Warning && !Quiet)
            Terminal.Warn(formatter(state, exception));
    }
}
