using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly.Registry;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Resilience;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ResilienceTests
{
    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, false)]
    [InlineData(HttpStatusCode.OK, false)]
    public void Only_transient_statuses_are_retried(HttpStatusCode status, bool transient) =>
        Assert.Equal(transient, TransientHttpFailure.IsTransient(status));

    [Fact]
    public async Task Transient_failures_are_retried_and_permanent_ones_are_not()
    {
        var transient = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        using (var client = Client(transient))
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("http://site/x")).StatusCode);
        Assert.Equal(3, transient.Calls);

        var permanent = new ScriptedHandler(HttpStatusCode.BadRequest, HttpStatusCode.OK);
        using (var client = Client(permanent))
            Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("http://site/x")).StatusCode);
        Assert.Equal(1, permanent.Calls);
    }

    [Fact]
    public async Task Network_errors_are_retried_until_the_attempts_run_out()
    {
        var failing = new ScriptedHandler();
        using var client = Client(failing);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://site/x"));
        Assert.Equal(1 + 3, failing.Calls);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_failures()
    {
        var failing = new ScriptedHandler();
        var options = Options(o =>
        {
            o.MaxRetryAttempts = 0;
            o.BreakerMinimumThroughput = 2;
            o.BreakerFailureRatio = 0.5;
        });
        using var client = Client(failing, options);
        for (var i = 0; i < 2; i++)
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://site/x"));
        await Assert.ThrowsAsync<Polly.CircuitBreaker.BrokenCircuitException>(() => client.GetAsync("http://site/x"));
        Assert.Equal(2, failing.Calls);
    }

    private static HttpResilienceOptions Options(Action<HttpResilienceOptions>? configure = null)
    {
        var options = new HttpResilienceOptions { RetryBaseDelay = Duration.FromSeconds(0.001) };
        configure?.Invoke(options);
        return options;
    }

    private static HttpClient Client(HttpMessageHandler inner, HttpResilienceOptions? options = null)
    {
        var monitor = new StaticOptionsMonitor(options ?? Options());
        var handler = new ResilienceHandler("test", new ResiliencePipelineRegistry<string>(), monitor) { InnerHandler = inner };
        return new HttpClient(handler);
    }

    /// <summary>Answers with the given statuses in turn; with none (or when they run out) it fails like a refused connection.</summary>
    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Calls++;
            return call < statuses.Length
                ? Task.FromResult(new HttpResponseMessage(statuses[call]))
                : throw new HttpRequestException("connection refused");
        }
    }

    private sealed class StaticOptionsMonitor(HttpResilienceOptions value) : IOptionsMonitor<HttpResilienceOptions>
    {
        public HttpResilienceOptions CurrentValue => value;
        public HttpResilienceOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<HttpResilienceOptions, string?> listener) => null;
    }
}
