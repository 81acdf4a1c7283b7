using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WaferMonitor.Tests.ServiceDefaults;

/// <summary>The standard resilience handler as <c>AddServiceDefaults()</c> configures it for every client.</summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task Transient_failures_are_retried_and_permanent_ones_are_not()
    {
        var transient = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        await using (var app = Host(transient))
            Assert.Equal(HttpStatusCode.OK, (await Client(app).GetAsync("http://site/x")).StatusCode);
        Assert.Equal(3, transient.Calls);

        var permanent = new ScriptedHandler(HttpStatusCode.BadRequest, HttpStatusCode.OK);
        await using (var app = Host(permanent))
            Assert.Equal(HttpStatusCode.BadRequest, (await Client(app).GetAsync("http://site/x")).StatusCode);
        Assert.Equal(1, permanent.Calls);
    }

    [Fact]
    public async Task Network_errors_are_retried_until_the_attempts_run_out()
    {
        var failing = new ScriptedHandler();
        await using var app = Host(failing, new() { ["Resilience:Http:MaxRetryAttempts"] = "2" });

        await Assert.ThrowsAsync<HttpRequestException>(() => Client(app).GetAsync("http://site/x"));

        Assert.Equal(1 + 2, failing.Calls);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_failures_for_that_destination_only()
    {
        var failing = new ScriptedHandler();
        await using var app = Host(failing, new()
        {
            ["Resilience:Http:MaxRetryAttempts"] = "0",
            ["Resilience:Http:BreakerMinimumThroughput"] = "2",
            ["Resilience:Http:BreakerFailureRatio"] = "0.5",
        });
        var client = Client(app);

        for (var i = 0; i < 2; i++)
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://site/x"));
        await Assert.ThrowsAsync<Polly.CircuitBreaker.BrokenCircuitException>(() => client.GetAsync("http://site/x"));
        Assert.Equal(2, failing.Calls);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://other-site/x"));
        Assert.Equal(3, failing.Calls);
    }

    [Fact]
    public async Task A_client_without_resilience_sees_the_first_answer()
    {
        var transient = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        await using var app = DefaultsHost.Build(configure: builder =>
        {
            builder.Services.AddHttpClientWithoutResilience("forwarder", TimeSpan.FromSeconds(5));
            builder.Services.AddHttpClient("forwarder").ConfigurePrimaryHttpMessageHandler(() => transient);
        });

        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("forwarder");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("http://site/x")).StatusCode);
        Assert.Equal(1, transient.Calls);
    }

    private static WebApplication Host(ScriptedHandler handler, Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Resilience:Http:RetryBaseDelay"] = "1ms";
        return DefaultsHost.Build(settings, builder =>
            builder.Services.AddHttpClient("test").ConfigurePrimaryHttpMessageHandler(() => handler));
    }

    private static HttpClient Client(WebApplication app) =>
        app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("test");

    /// <summary>Answers with the given statuses in turn; with none (or when they run out) it fails like a refused connection.</summary>
    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        private int calls;

        public int Calls => Volatile.Read(ref calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref calls) - 1;
            return call < statuses.Length
                ? Task.FromResult(new HttpResponseMessage(statuses[call]))
                : throw new HttpRequestException("connection refused");
        }
    }
}
