using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace WaferMonitor.ServiceDefaults.Resilience;

/// <summary>
/// Microsoft.Extensions.Http.Resilience's standard handler (total timeout → retry with jittered exponential backoff →
/// circuit breaker → attempt timeout) on every <see cref="HttpClient"/>, configured from the documented
/// <c>Resilience:Http:*</c> keys. One pipeline, so one breaker, per destination: one bad site does not open it for others.
/// </summary>
internal static class StandardResilience
{
    public static void AddStandardResilience(this IHttpClientBuilder http) =>
        http.AddStandardResilienceHandler()
            .Configure((standard, services) => Apply(services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().CurrentValue, standard))
            .SelectPipelineByAuthority();

    internal static void Apply(HttpResilienceOptions options, HttpStandardResilienceOptions standard)
    {
        standard.TotalRequestTimeout.Timeout = options.TotalTimeout.Value;
        standard.AttemptTimeout.Timeout = options.AttemptTimeout.Value;
        // Polly requires at least one attempt; MaxRetryAttempts = 0 means "handle nothing" instead.
        standard.Retry.MaxRetryAttempts = Math.Max(1, options.MaxRetryAttempts);
        if (options.MaxRetryAttempts == 0)
            standard.Retry.ShouldHandle = _ => PredicateResult.False();
        standard.Retry.Delay = options.RetryBaseDelay.Value;
        standard.Retry.BackoffType = DelayBackoffType.Exponential;
        standard.Retry.UseJitter = true;
        standard.CircuitBreaker.FailureRatio = options.BreakerFailureRatio;
        standard.CircuitBreaker.MinimumThroughput = options.BreakerMinimumThroughput;
        standard.CircuitBreaker.SamplingDuration = options.BreakerSamplingDuration.Value;
        standard.CircuitBreaker.BreakDuration = options.BreakerBreakDuration.Value;
    }
}
