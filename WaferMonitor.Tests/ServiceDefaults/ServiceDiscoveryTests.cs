using Microsoft.Extensions.Configuration;
using WaferMonitor.ServiceDefaults.Discovery;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ServiceDiscoveryTests
{
    private static ServiceEndpointResolver Resolver(params (string Key, string Value)[] settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void A_logical_name_resolves_through_the_aspire_configuration_key()
    {
        var resolver = Resolver(("services:localapi-fab1:http:0", "http://127.0.0.1:41234"));
        Assert.Equal(new Uri("http://127.0.0.1:41234/v1/jobs?limit=5"), resolver.Resolve(new Uri("http://localapi-fab1/v1/jobs?limit=5")));
    }

    [Fact]
    public void Https_plus_http_prefers_https_and_falls_back_to_http()
    {
        Assert.Equal(new Uri("http://10.0.0.2:80/x"),
            Resolver(("services:central:http:0", "http://10.0.0.2:80")).Resolve(new Uri("https+http://central/x")));
        Assert.Equal(new Uri("https://10.0.0.3:443/x"),
            Resolver(("services:central:http:0", "http://10.0.0.2:80"), ("services:central:https:0", "https://10.0.0.3:443"))
                .Resolve(new Uri("https+http://central/x")));
    }

    [Fact]
    public void Unknown_names_pass_through_unchanged()
    {
        var uri = new Uri("http://example.internal:8080/v1/healthz");
        Assert.Equal(uri, Resolver().Resolve(uri));
    }

    [Fact]
    public void A_configured_value_that_is_not_a_url_is_reported_by_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Resolver(("services:localapi-fab1:http:0", "not a url")).Resolve(new Uri("http://localapi-fab1/")));
        Assert.Contains("services:localapi-fab1:http:0", error.Message);
    }
}
