using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Fab;

[Collection(FabCollection.Name)]
public sealed class FabSliceTests(FabFixture fab)
{
    [Theory]
    [InlineData("sidecar-fab1")]
    [InlineData("localapi-fab1")]
    [InlineData("archiver-fab1")]
    [InlineData("central")]
    public async Task Every_service_answers_health_in_the_contract_vocabulary(string resource)
    {
        using var client = fab.Client(resource);
        using var healthz = await client.GetAsync("/v1/healthz");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        var body = await healthz.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(body.GetProperty("status").GetString(), new[] { "ok", "degraded" });
        Assert.Equal(resource, body.GetProperty("service").GetString());
        Assert.True(body.GetProperty("checks").TryGetProperty("self", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);

        using var metrics = await client.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE process_cpu_seconds_total counter", await metrics.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_event_posted_to_the_sidecar_reaches_localapi_and_central()
    {
        var jobId = Guid.NewGuid();
        var started = Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow.AddSeconds(-5), businessKey: "slice-lot");
        using var sidecar = fab.Client("sidecar-fab1");
        using var accepted = await sidecar.PostAsJsonAsync("/v1/ingest/events", started, WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        using var localApi = fab.Client("localapi-fab1");
        await Events.Eventually(async () =>
        {
            var page = await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key=slice-lot");
            return page.GetProperty("items").EnumerateArray().Any(j => j.GetProperty("job_id").GetGuid() == jobId);
        }, "the job on localapi-fab1");

        using var central = fab.Client("central");
        var viaCentral = await central.GetFromJsonAsync<JsonElement>("/v1/jobs?site=fab1&business_key=slice-lot");
        var job = Assert.Single(viaCentral.GetProperty("items").EnumerateArray(), j => j.GetProperty("job_id").GetGuid() == jobId);
        Assert.Equal("running", job.GetProperty("status").GetString());
        Assert.Equal("fab1", job.GetProperty("site_id").GetString());

        using var otherSite = fab.Client("localapi-fab2");
        var fab2 = await otherSite.GetFromJsonAsync<JsonElement>("/v1/jobs?business_key=slice-lot");
        Assert.Equal(0, fab2.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Endpoints_file_names_every_resource_with_its_listening_url()
    {
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(fab.EndpointsFile));
        var resources = document.RootElement.GetProperty("resources");
        foreach (var name in new[] { "sidecar-fab1", "localapi-fab1", "archiver-fab1", "sidecar-fab2", "localapi-fab2", "archiver-fab2", "central" })
        {
            var url = resources.GetProperty(name).GetProperty("url").GetString();
            Assert.Equal($"http://127.0.0.1:{fab.Endpoint(name).Port}", url);
        }
        Assert.Contains("Database=monitor_fab1", resources.GetProperty("monitor-fab1").GetProperty("connectionString").GetString());
        Assert.True(resources.TryGetProperty("postgres", out _));
    }

    [Fact]
    public async Task Central_answers_404_for_an_unknown_site()
    {
        using var central = fab.Client("central");
        using var response = await central.GetAsync("/v1/jobs?site=nowhere");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
