using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ServiceDiscoveryTests
{
    [Fact]
    public async Task A_logical_name_resolves_through_the_aspire_configuration_key()
    {
        await using var peer = DefaultsHost.Build();
        // Open on purpose: every route of a service is closed unless it says who may call it.
        peer.MapGet("/v1/jobs", () => "from the peer").AllowAnonymous();
        await peer.StartAsync();
        await using var app = DefaultsHost.Build(new() { ["services:localapi-fab1:http:0"] = peer.Urls.Single() });

        using var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("from the peer", await client.GetStringAsync("http://localapi-fab1/v1/jobs?limit=5"));
    }

    [Fact]
    public async Task Unknown_names_pass_through_unchanged()
    {
        await using var peer = DefaultsHost.Build();
        peer.MapGet("/x", () => "direct").AllowAnonymous();
        await peer.StartAsync();
        await using var app = DefaultsHost.Build();

        using var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("direct", await client.GetStringAsync($"{peer.Urls.Single()}/x"));
    }

    [Fact]
    public async Task A_configured_value_that_is_not_a_url_stops_the_start_with_the_key()
    {
        await using var app = DefaultsHost.Build(new() { ["services:localapi-fab1:http:0"] = "not a url" });

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("services:localapi-fab1:http:0: 'not a url' is not an absolute URL", Assert.Single(error.Failures));
    }
}
