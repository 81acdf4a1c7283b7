using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;

namespace WaferMonitor.ServiceDefaults.Resilience;

/// <summary>
/// The standard resilience pipeline of Microsoft.Extensions.Http.Resilience (not obtainable), built on Polly v8:
/// total timeout → retry (exponential, jittered, transient failures only) → circuit breaker → attempt timeout.
/// One pipeline — one breaker — per client name and destination, so one bad site does not open the breaker for others.
/// </summary>
internal sealed class ResilienceHandler(
    string clientName,
    ResiliencePipelineRegistry<string> registry,
    IOptionsMonitor<HttpResilienceOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var key = $"{clientName}|{request.RequestUri?.GetLeftPart(UriPartial.Authority)}";
        var pipeline = registry.GetOrAddPipeline<HttpResponseMessage>(key, builder => Build(builder, options.CurrentValue));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    try
                    {
                        var response = await state.Handler.SendCore(state.Request, ctx.CancellationToken).ConfigureAwait(false);
                        return Outcome.FromResult(response);
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                },
                context,
                (Handler: this, Request: request)).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendCore(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    internal static void Build(ResiliencePipelineBuilder<HttpResponseMessage> builder, HttpResilienceOptions options)
    {
        var transient = TransientHttpFailure.Predicate();
        builder.AddTimeout(options.TotalTimeout.Value);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay.Value,
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration.Value,
                BreakDuration = options.BreakerBreakDuration.Value,
            })
            .AddTimeout(options.AttemptTimeout.Value);
    }
}
