using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WaferMonitor.Sdk.Client;

namespace WaferMonitor.Tests.Sdk;

public sealed class ConfigurationTests
{
    [Fact]
    public void Section_values_are_read_and_win_over_SIDECAR_URL()
    {
        var configuration = Build(new()
        {
            ["SIDECAR_URL"] = "http://sidecar-from-env:8000",
            ["WaferMonitor:SidecarUrl"] = "http://10.1.2.3:8001/",
            ["WaferMonitor:SiteId"] = "fab2",
            ["WaferMonitor:App:Name"] = "litho-runner",
            ["WaferMonitor:App:Version"] = "3.4.5",
            ["WaferMonitor:QueueCapacity"] = "123",
            ["WaferMonitor:MaxBatchSize"] = "50",
            ["WaferMonitor:FlushInterval"] = "250ms",
            ["WaferMonitor:RetryMaxDelay"] = "2m",
            ["WaferMonitor:ShutdownTimeout"] = "00:00:07",
            ["WaferMonitor:StartActivities"] = "false",
        });

        var options = MonitorOptions.FromConfiguration(configuration);

        Assert.Equal(new Uri("http://10.1.2.3:8001/"), options.SidecarUrl);
        Assert.Equal("fab2", options.SiteId);
        Assert.Equal("litho-runner", options.App!.Name);
        Assert.Equal("3.4.5", options.App.Version);
        Assert.Equal(MonitorOptions.DeriveAppId("litho-runner"), options.App.AppId);
        Assert.Equal(123, options.QueueCapacity);
        Assert.Equal(50, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.FlushInterval);
        Assert.Equal(TimeSpan.FromMinutes(2), options.RetryMaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(7), options.ShutdownTimeout);
        Assert.False(options.StartActivities);
    }

    [Fact]
    public void SIDECAR_URL_is_used_when_the_section_has_no_url()
    {
        var options = MonitorOptions.FromConfiguration(Build(new() { ["SIDECAR_URL"] = "http://sidecar:8000" }));
        Assert.Equal(new Uri("http://sidecar:8000"), options.SidecarUrl);
    }

    [Fact]
    public void Derived_app_ids_are_stable_well_formed_and_distinct()
    {
        var id = MonitorOptions.DeriveAppId("wafer-process");
        Assert.Equal(id, MonitorOptions.DeriveAppId("wafer-process"));
        Assert.NotEqual(id, MonitorOptions.DeriveAppId("wafer-process-2"));
        Assert.Equal('8', id.ToString()[14]);
    }

    [Theory]
    [InlineData("WaferMonitor:FlushInterval", "soon")]
    [InlineData("WaferMonitor:QueueCapacity", "many")]
    [InlineData("WaferMonitor:SidecarUrl", "not a url")]
    [InlineData("WaferMonitor:App:Id", "not-a-uuid")]
    public void Unreadable_values_fail_with_a_message_naming_the_key(string key, string value)
    {
        var values = new Dictionary<string, string?> { [key] = value, ["WaferMonitor:App:Name"] = "app" };
        var error = Assert.Throws<InvalidOperationException>(() => MonitorOptions.FromConfiguration(Build(values)));
        Assert.StartsWith(key, error.Message);
    }

    [Fact]
    public void Invalid_settings_stop_client_creation_with_the_key_named()
    {
        var options = TestClients.Options(new Uri("http://127.0.0.1:1"));
        options.MaxBatchSize = 20_000;
        var error = Assert.Throws<InvalidOperationException>(() => new MonitorClient(options));
        Assert.StartsWith("WaferMonitor:MaxBatchSize", error.Message);
    }

    [Fact]
    public async Task AddWaferMonitor_registers_one_client_configured_from_the_container()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Build(new()
        {
            ["WaferMonitor:SidecarUrl"] = sidecar.Url.ToString(),
            ["WaferMonitor:SiteId"] = "fab3",
            ["WaferMonitor:App:Name"] = "metrology",
        }));
        services.AddWaferMonitor(o => o.FlushInterval = TimeSpan.FromMilliseconds(20));

        await using (var provider = services.BuildServiceProvider())
        {
            var client = provider.GetRequiredService<MonitorClient>();
            Assert.Same(client, provider.GetRequiredService<MonitorClient>());
            Assert.Equal("fab3", client.SiteId);
            Assert.Equal("metrology", client.App.Name);
            await using (client.StartJob("lot-di"))
            {
            }
        }

        Assert.Equal(2, sidecar.Accepted.Count);
        Assert.All(sidecar.Accepted, e => Assert.Equal("fab3", e.GetProperty("site_id").GetString()));
    }

    private static IConfiguration Build(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
