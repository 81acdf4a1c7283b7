using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Security;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>
/// A private site whose LocalApi holds several ingest keys (one revoked, two valid during a rotation, one configured by
/// its hash only) and a read token, and whose Sidecar has moved to the new key.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class CredentialRotationTests(FabFixture fab)
{
    private const string RevokedKey = "revoked-ingest-key-0000000001";
    private const string CurrentKey = "current-ingest-key-0000000002";
    private const string NextKey = "next-ingest-key-00000000000003";
    private const string ReadToken = "read-only-token-00000000000004";

    private static Dictionary<string, string> LocalApiCredentials => new()
    {
        ["Security__Credentials__old__Key"] = RevokedKey,
        ["Security__Credentials__old__Scopes"] = "ingest",
        ["Security__Credentials__old__Revoked"] = "true",
        ["Security__Credentials__current__Key"] = CurrentKey,
        ["Security__Credentials__current__Scopes"] = "ingest",
        ["Security__Credentials__next__Sha256"] = CredentialStore.Hash(NextKey).ToUpperInvariant(),
        ["Security__Credentials__next__Scopes"] = "ingest",
        ["Security__Credentials__dashboard__Key"] = ReadToken,
        ["Security__Credentials__dashboard__Scopes"] = "read",
    };

    [Fact]
    public async Task Two_keys_are_valid_during_a_rotation_a_revoked_one_and_a_read_token_write_nothing()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: LocalApiCredentials,
            sidecarEnvironment: new Dictionary<string, string> { ["Sidecar__LocalApiKey"] = NextKey });
        var refused = new List<string>();
        foreach (var (key, expected) in new[]
                 {
                     (RevokedKey, HttpStatusCode.Unauthorized), (ReadToken, HttpStatusCode.Forbidden),
                     ("x" + CurrentKey, HttpStatusCode.Unauthorized), (CurrentKey, HttpStatusCode.OK), (NextKey, HttpStatusCode.OK),
                 })
        {
            var idempotencyKey = Guid.NewGuid().ToString();
            using var client = Client(rig, key);
            using var response = await client.PostAsJsonAsync("/v1/ingest/events:batch",
                new[] { Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, site: rig.Site, key: idempotencyKey) }, WireJson.Options);
            Assert.True(expected == response.StatusCode, $"{key[..8]}…: {(int)response.StatusCode}");
            if (expected != HttpStatusCode.OK)
                refused.Add(idempotencyKey);
        }
        var stored = await Sql.QueryAsync(rig.ConnectionString, "SELECT count(*) FROM event_key WHERE key_id IN (SELECT wm_event_key_id(k) FROM unnest(@keys) k)", ("keys", refused.ToArray()));
        Assert.Equal(0L, stored[0][0]);

        // Reads: the read token reads; an ingest key does not.
        using (var reader = Client(rig, ReadToken))
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/jobs?limit=1")).StatusCode);
        using (var ingester = Client(rig, CurrentKey))
            Assert.Equal(HttpStatusCode.Forbidden, (await ingester.GetAsync("/v1/jobs?limit=1")).StatusCode);

        // The Sidecar, moved to the next key, forwards and reports with it.
        using var sidecar = rig.Client("sidecar");
        var jobId = Guid.NewGuid();
        await Events.PostBatchAsync(sidecar, [Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow, site: rig.Site)]);
        using var localApi = Client(rig, ReadToken);
        await Events.Eventually(async () => (await localApi.GetAsync($"/v1/jobs/{jobId}")).StatusCode == HttpStatusCode.OK, "forwarded with the next key");

        var metrics = await localApi.GetStringAsync("/metrics");
        Assert.Matches("auth_failures_total\\{reason=\"revoked\"\\} [1-9]", metrics);
        Assert.Matches("auth_failures_total\\{reason=\"scope\"\\} [1-9]", metrics);
    }

    [Fact]
    public async Task Ingest_is_rate_limited_per_credential_with_429_and_retry_after()
    {
        var environment = LocalApiCredentials;
        environment["Security__IngestRequestsPerSecond"] = "1";
        environment["Security__IngestBurst"] = "2";
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: environment);
        using var client = Client(rig, CurrentKey);
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var response = await client.PostAsJsonAsync("/v1/ingest/events:batch", Array.Empty<WireEvent>(), WireJson.Options);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                limited = response;
            else
                response.Dispose();
        }
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
        limited.Dispose();

        // Another credential has its own bucket.
        using var other = Client(rig, NextKey);
        using var otherResponse = await other.PostAsJsonAsync("/v1/ingest/events:batch", Array.Empty<WireEvent>(), WireJson.Options);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }

    private static HttpClient Client(SiteRig rig, string key)
    {
        var client = new HttpClient { BaseAddress = rig.LocalApi.Url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
