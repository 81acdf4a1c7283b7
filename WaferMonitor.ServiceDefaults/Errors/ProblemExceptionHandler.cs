using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace WaferMonitor.ServiceDefaults.Errors;

/// <summary>
/// Turns an exception that escaped an endpoint into an RFC 7807 problem with the status that tells the client what to do:
/// broken HTTP framing is the client's (400/408/413), a database that cannot be reached is temporary (503 with
/// <c>Retry-After</c>, which the Sidecar's forwarder and the SDK honour), anything else is ours (500).
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Classify(exception);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            LogUnavailable(context.Request.Path, exception.Message);
        }
        else if (status >= 500)
        {
            LogFailed(exception, context.Request.Path);
        }
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    internal static (int Status, string Title, string Detail) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException bad => (bad.StatusCode, "Malformed request", bad.Message),
        _ when IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "Database unavailable",
            $"the site database cannot be reached right now; retry in {RetryAfterSeconds} s"),
        _ => (StatusCodes.Status500InternalServerError, "Internal error", "the server failed to handle the request; see its log"),
    };

    /// <summary>
    /// Connection refused or lost, the server starting or shutting down (57P0x), too many connections (53300), a pool
    /// that gave no connection in time: Npgsql marks all of these transient.
    /// </summary>
    public static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true,
        PostgresException { SqlState: var state } when state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal) => true,
        { InnerException: { } inner } => IsDatabaseUnavailable(inner),
        _ => false,
    };

    [LoggerMessage(EventName = "database_unavailable", Level = LogLevel.Warning,
        Message = "{Path} answered 503: database unavailable ({Reason})")]
    private partial void LogUnavailable(string path, string reason);

    [LoggerMessage(EventName = "request_failed", Level = LogLevel.Error, Message = "{Path} failed")]
    private partial void LogFailed(Exception exception, string path);
}
