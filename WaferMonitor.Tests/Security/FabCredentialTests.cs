using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Security;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>
/// The local fab as the AppHost runs it: every route of every service without a credential, with a wrong one and with
/// one of the wrong scope, against the credentials the fab generated and wrote into endpoints.json.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class FabCredentialTests(FabFixture fab)
{
    private static readonly Dictionary<string, string> Resources = new()
    {
        ["localapi"] = "localapi-fab1",
        ["central"] = "central",
        ["archiver"] = "archiver-fab1",
        ["sidecar"] = "sidecar-fab1",
    };

    public static TheoryData<string> Services => new(RouteTable.ServiceNames);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Every_closed_route_refuses_no_credential_and_a_wrong_one_and_stores_nothing(string service)
    {
        var resource = Resources[service];
        var keys = new List<string>();
        foreach (var route in RouteTable.Of(service).Where(r => !r.Anonymous))
        {
            // The Sidecar on loopback takes the v2 SDK's unauthenticated events (tested below).
            if (service == "sidecar" && route.Policies.Contains(SecurityPolicies.Ingest))
                continue;
            foreach (var credential in new[] { null, "not-a-key-of-this-fab-0123456789" })
            {
                using var client = fab.AnonymousClient(resource);
                if (credential is not null)
                    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
                var key = Guid.NewGuid().ToString();
                keys.Add(key);
                using var response = await SendAsync(client, route, key);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route} with {credential ?? "no credential"}: {(int)response.StatusCode}");
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }
        }
        await AssertNotStoredAsync(keys);
    }

    [Fact]
    public async Task The_documented_openapi_routes_answer_401_without_a_token()
    {
        using var client = fab.Client("localapi-fab1");
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        using var anonymous = fab.AnonymousClient("localapi-fab1");
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().ToList();
        Assert.Contains(paths, p => p.Name == "/v1/ingest/events");
        // The pages' files are described as /assets/{path}; they are open by design, as the route table says.
        foreach (var path in paths.Where(p => !RouteTable.OpenRoutes.Contains(p.Name) && !p.Name.StartsWith("/assets/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var route = new Route("localapi", operation.Name.ToUpperInvariant(), path.Name, false, []);
                using var response = await SendAsync(anonymous, route, Guid.NewGuid().ToString());
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route}: {(int)response.StatusCode}");
            }
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task A_credential_of_the_wrong_scope_is_forbidden_and_stores_nothing()
    {
        var credentials = await StoredCredentialsAsync();
        using var reader = fab.AnonymousClient("localapi-fab1");
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials["localapi-fab1-read-token"]);
        var key = Guid.NewGuid().ToString();
        using (var write = await reader.PostAsJsonAsync("/v1/ingest/events", Event(key), WireJson.Options))
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/jobs?limit=1")).StatusCode);

        using var ingester = fab.AnonymousClient("localapi-fab1");
        ingester.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fab.IngestKey("localapi-fab1"));
        Assert.Equal(HttpStatusCode.Forbidden, (await ingester.GetAsync("/v1/jobs?limit=1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ingester.GetAsync("/v1/stream")).StatusCode);

        // The fab-1 read token is not a credential at fab2.
        using var otherSite = fab.AnonymousClient("localapi-fab2");
        otherSite.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials["localapi-fab1-read-token"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherSite.GetAsync("/v1/jobs?limit=1")).StatusCode);
        await AssertNotStoredAsync([key]);
    }

    [Fact]
    public async Task Requests_no_route_takes_answer_their_error_to_a_credential_and_401_to_a_stranger()
    {
        using var anonymous = fab.AnonymousClient("localapi-fab1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/no-such-route")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/v1/jobs")).StatusCode);
        using var ingester = fab.AnonymousClient("localapi-fab1");
        ingester.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fab.IngestKey("localapi-fab1"));
        Assert.Equal(HttpStatusCode.NotFound, (await ingester.GetAsync("/no-such-route")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await ingester.DeleteAsync("/v1/jobs")).StatusCode);
        using var text = await ingester.PostAsync("/v1/ingest/events", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
    }

    [Fact]
    public async Task The_v2_sdk_posts_to_its_loopback_sidecar_without_a_credential_and_the_sidecar_forwards_with_its_key()
    {
        using var sidecar = fab.AnonymousClient("sidecar-fab1");
        var jobId = Guid.NewGuid();
        using var response = await sidecar.PostAsJsonAsync("/v1/ingest/events", Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ok").GetBoolean());

        using var localApi = fab.Client("localapi-fab1");
        await Events.Eventually(async () => (await localApi.GetAsync($"/v1/jobs/{jobId}")).StatusCode == HttpStatusCode.OK,
            "the Sidecar forwarded the event with its ingest key");
        // Reading the spool is not ingest: it needs a token even on loopback.
        Assert.Equal(HttpStatusCode.Unauthorized, (await sidecar.GetAsync("/v1/spool")).StatusCode);
    }

    [Fact]
    public async Task Central_reads_every_site_with_its_read_token_and_needs_a_token_itself()
    {
        using var central = fab.Client("central");
        var sites = await central.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=1");
        Assert.Empty(sites.GetProperty("site_errors").EnumerateObject());
        using var anonymous = fab.AnonymousClient("central");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/jobs?limit=1")).StatusCode);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Endpoints_json_carries_each_services_token_readable_by_its_owner_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fab.EndpointsFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(fab.StateDirectory, "credentials.json")));
        foreach (var service in FabFixture.Services)
            Assert.True(fab.Token(service).Length >= SecurityOptions.MinimumKeyLength, service);
        Assert.NotEqual(fab.IngestKey("localapi-fab1"), fab.IngestKey("localapi-fab2"));
    }

    [Fact]
    public async Task Refusals_are_counted_by_reason_and_logged_without_the_secret()
    {
        const string secret = "refused-secret-that-must-not-be-logged";
        using var anonymous = fab.AnonymousClient("localapi-fab2");
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/jobs")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/stats")).StatusCode);

        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Matches("auth_failures_total\\{reason=\"unknown\"\\} [1-9]", metrics);
        Assert.Matches("auth_failures_total\\{reason=\"missing\"\\} [1-9]", metrics);
        var log = Path.Combine(fab.StateDirectory, "logs", "localapi-fab2.log");
        await Events.Eventually(async () => (await File.ReadAllTextAsync(log)).Contains("Refused unknown", StringComparison.Ordinal), "the refusal logged");
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(log));
    }

    private static WireEvent Event(string key) => Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, key: key);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Route route, string key)
    {
        var path = route.Pattern.Replace("{jobId}", Guid.NewGuid().ToString(), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
        if (route.Method != "GET")
        {
            object body = path.EndsWith(":batch", StringComparison.Ordinal) ? new[] { Event(key) } : Event(key);
            request.Content = JsonContent.Create(body, options: WireJson.Options);
        }
        return await client.SendAsync(request);
    }

    private async Task<Dictionary<string, string>> StoredCredentialsAsync() =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(fab.StateDirectory, "credentials.json")))!;

    private async Task AssertNotStoredAsync(IReadOnlyCollection<string> keys)
    {
        foreach (var database in new[] { "monitor-fab1", "monitor-fab2" })
        {
            var stored = await Sql.QueryAsync(fab.ConnectionString(database), "SELECT count(*) FROM event_key WHERE key_id IN (SELECT wm_event_key_id(k) FROM unnest(@keys) k)",
                ("keys", keys.ToArray()));
            Assert.Equal(0L, stored[0][0]);
        }
    }
}
