using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Contracts;

/// <summary>
/// Every v2 endpoint answers a superset of v2's response (issue 23): v2's fields with v2's types and values, ours
/// unchanged beside them, and v2's status codes — what a v2 client checks.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class V2ResponseContractTests(FabFixture fab)
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent Json(object value) => Json(JsonSerializer.Serialize(value, WireJson.Options));

    private static string[] Names(JsonElement body) => [.. body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static void AssertFields(JsonElement body, params string[] expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), Names(body));

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static WireEvent Started(string site = "fab1") =>
        Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow.AddSeconds(-5), site: site, businessKey: "v2-shapes");

    [Fact]
    public async Task Sidecar_ingest_is_200_with_ok_and_forwarded_and_spooled()
    {
        using var sidecar = fab.Client("sidecar-fab1");
        var one = Started();
        var (status, single) = await SendAsync(sidecar.PostAsync("/v1/ingest/events", Json(one)));
        Assert.Equal(HttpStatusCode.OK, status);
        AssertFields(single, "ok", "status", "idempotency_key");
        Assert.Equal(JsonValueKind.True, single.GetProperty("ok").ValueKind);
        Assert.Equal("accepted", single.GetProperty("status").GetString());
        Assert.Equal(one.IdempotencyKey, single.GetProperty("idempotency_key").GetString());

        // The AppHost sets Sidecar:SiteId, so fab2's event is refused here, beside the valid one.
        var (batchStatus, batch) = await SendAsync(sidecar.PostAsync("/v1/ingest/events:batch", Json(new[] { Started(), Started("fab2") })));
        Assert.Equal(HttpStatusCode.OK, batchStatus);
        AssertFields(batch, "ok", "accepted", "duplicates", "rejected", "forwarded", "spooled");
        Assert.Equal(JsonValueKind.True, batch.GetProperty("ok").ValueKind);
        Assert.Equal(0, batch.GetProperty("forwarded").GetInt32());
        Assert.Equal(1, batch.GetProperty("spooled").GetInt32());
        Assert.Equal(1, batch.GetProperty("accepted").GetInt32());
        Assert.Equal(0, batch.GetProperty("duplicates").GetInt32());
        var rejected = Assert.Single(batch.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Equal(RejectionCodes.WrongSite, rejected.GetProperty("code").GetString());

        var (emptyStatus, empty) = await SendAsync(sidecar.PostAsync("/v1/ingest/events:batch", Json("[]")));
        Assert.Equal(HttpStatusCode.OK, emptyStatus);
        Assert.Equal((true, 0, 0), (empty.GetProperty("ok").GetBoolean(), empty.GetProperty("forwarded").GetInt32(), empty.GetProperty("spooled").GetInt32()));
    }

    [Fact]
    public async Task LocalApi_ingest_is_200_with_ok_duration_and_v2s_batch_counts()
    {
        using var localApi = fab.Client("localapi-fab1");
        var one = Started();
        var (status, single) = await SendAsync(localApi.PostAsync("/v1/ingest/events", Json(one)));
        Assert.Equal(HttpStatusCode.OK, status);
        AssertFields(single, "ok", "status", "idempotency_key", "duration_s");
        Assert.Equal(JsonValueKind.True, single.GetProperty("ok").ValueKind);
        Assert.Equal("accepted", single.GetProperty("status").GetString());
        Assert.Equal(one.IdempotencyKey, single.GetProperty("idempotency_key").GetString());
        Assert.Equal(JsonValueKind.Number, single.GetProperty("duration_s").ValueKind);
        Assert.True(single.GetProperty("duration_s").GetDouble() > 0);

        var (againStatus, again) = await SendAsync(localApi.PostAsync("/v1/ingest/events", Json(one)));
        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.True(again.GetProperty("ok").GetBoolean());
        Assert.Equal("duplicate", again.GetProperty("status").GetString());

        // One new, one stored before, one for another site: 3 in the array, 2 stored (v2 counted a duplicate as success), 1 failed.
        var (batchStatus, batch) = await SendAsync(localApi.PostAsync("/v1/ingest/events:batch", Json(new[] { Started(), one, Started("fab2") })));
        Assert.Equal(HttpStatusCode.OK, batchStatus);
        AssertFields(batch, "ok", "accepted", "duplicates", "rejected", "total", "success", "failed");
        Assert.Equal(JsonValueKind.True, batch.GetProperty("ok").ValueKind);
        Assert.Equal((3, 2, 1), (batch.GetProperty("total").GetInt32(), batch.GetProperty("success").GetInt32(), batch.GetProperty("failed").GetInt32()));
        Assert.Equal((1, 1), (batch.GetProperty("accepted").GetInt32(), batch.GetProperty("duplicates").GetInt32()));
        Assert.Equal(RejectionCodes.WrongSite, Assert.Single(batch.GetProperty("rejected").EnumerateArray()).GetProperty("code").GetString());

        var (invalidStatus, _) = await SendAsync(localApi.PostAsync("/v1/ingest/events", Json(Started("fab2"))));
        Assert.Equal(HttpStatusCode.BadRequest, invalidStatus);
    }

    [Theory]
    [InlineData("sidecar-fab1")]
    [InlineData("localapi-fab1")]
    [InlineData("central")]
    public async Task Healthz_says_ok_and_carries_v2s_fields(string resource)
    {
        using var client = fab.Client(resource);
        // Central reports degraded until it has polled each site once.
        await Events.Eventually(async () => (await client.GetFromJsonAsync<JsonElement>("/v1/healthz")).GetProperty("status").GetString() == "ok",
            $"{resource} ok");
        var (status, health) = await SendAsync(client.GetAsync("/v1/healthz"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(resource, health.GetProperty("service").GetString());
        Assert.Equal(JsonValueKind.String, health.GetProperty("version").ValueKind);
        Assert.All(health.GetProperty("checks").EnumerateObject(), check =>
        {
            Assert.Equal("ok", check.Value.GetProperty("status").GetString());
            Assert.True(check.Value.TryGetProperty("detail", out _));
        });
        switch (resource)
        {
            case "sidecar-fab1":
                AssertFields(health, "status", "service", "version", "site", "checks", "spool_count", "spool_dir");
                Assert.Equal(JsonValueKind.Number, health.GetProperty("spool_count").ValueKind);
                Assert.True(health.GetProperty("spool_count").GetInt64() >= 0);
                Assert.True(Directory.Exists(health.GetProperty("spool_dir").GetString()));
                break;
            case "localapi-fab1":
                AssertFields(health, "status", "service", "version", "site", "checks", "database_pool");
                Assert.Equal("connected", health.GetProperty("database_pool").GetString());
                break;
            default:
                AssertFields(health, "status", "service", "version", "checks", "sites");
                var sites = health.GetProperty("sites");
                Assert.Equal(["fab1", "fab2"], Names(sites));
                foreach (var site in sites.EnumerateObject())
                {
                    AssertFields(site.Value, "status", "endpoint");
                    Assert.Equal("ok", site.Value.GetProperty("status").GetString());
                    Assert.Equal($"http://localapi-{site.Name}/", site.Value.GetProperty("endpoint").GetString());
                }
                break;
        }
    }

    [Fact]
    public async Task Central_sites_carry_v2s_id_endpoint_and_count()
    {
        using var central = fab.Client("central");
        var (status, body) = await SendAsync(central.GetAsync("/v1/sites"));
        Assert.Equal(HttpStatusCode.OK, status);
        AssertFields(body, "sites", "count");
        var sites = body.GetProperty("sites").EnumerateArray().ToList();
        Assert.Equal(2, body.GetProperty("count").GetInt32());
        Assert.Equal(sites.Count, body.GetProperty("count").GetInt32());
        Assert.All(sites, site =>
        {
            AssertFields(site, "site_id", "url", "status", "latency_ms", "last_contact_at", "error", "checked_at", "is_up", "id", "endpoint");
            Assert.Equal(site.GetProperty("site_id").GetString(), site.GetProperty("id").GetString());
            Assert.Equal(site.GetProperty("url").GetString(), site.GetProperty("endpoint").GetString());
        });
        Assert.Equal(["fab1", "fab2"], sites.Select(s => s.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("localapi-fab1", "/v1/jobs?business_key=v2-shapes")]
    [InlineData("localapi-fab1", "/v1/subjobs")]
    [InlineData("central", "/v1/jobs?site=fab1&business_key=v2-shapes")]
    [InlineData("central", "/v1/jobs?business_key=v2-shapes")]
    [InlineData("central", "/v1/subjobs")]
    public async Task Query_pages_carry_items_count_and_duration(string resource, string url)
    {
        using (var localApi = fab.Client("localapi-fab1"))
        {
            var job = Started();
            await Events.PostBatchAsync(localApi, [job, Events.Subjob(Guid.NewGuid(), job.Entity.Id, EventKinds.Started, job.Event.At)]);
        }
        using var client = fab.Client(resource);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.CacheControl = new() { NoCache = true };
        var (status, page) = await SendAsync(client.SendAsync(request));
        Assert.Equal(HttpStatusCode.OK, status);
        var merged = resource == "central" && !url.Contains("site=");
        if (merged)
            AssertFields(page, "items", "count", "next_cursor", "partial", "site_errors", "duration_s");
        else
            AssertFields(page, "items", "count", "next_cursor", "duration_s");
        Assert.Equal(page.GetProperty("items").GetArrayLength(), page.GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Number, page.GetProperty("duration_s").ValueKind);
        Assert.True(page.GetProperty("duration_s").GetDouble() > 0);
        Assert.True(page.GetProperty("count").GetInt32() > 0);
    }
}
