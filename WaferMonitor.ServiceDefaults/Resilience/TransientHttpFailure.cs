using System.Net;
using Polly;
using Polly.Timeout;

namespace WaferMonitor.ServiceDefaults.Resilience;

/// <summary>Which outcomes are worth another attempt: network errors, attempt timeouts, 408, 429 and 5xx.</summary>
public static class TransientHttpFailure
{
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    public static PredicateBuilder<HttpResponseMessage> Predicate() => new PredicateBuilder<HttpResponseMessage>()
        .HandleResult(response => IsTransient(response.StatusCode))
        .Handle<HttpRequestException>()
        .Handle<TimeoutRejectedException>();
}
