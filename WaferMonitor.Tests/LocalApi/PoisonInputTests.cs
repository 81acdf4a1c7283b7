using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>
/// Inputs that passed validation and failed deeper down (issue 19), through real Sidecar and LocalApi processes: each is
/// a 400 or a rejected entry naming why, never a 500, and never costs its valid neighbours.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class PoisonInputTests(FabFixture fab)
{
    private static StringContent Json(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    private static string Valid(string businessKey) =>
        JsonSerializer.Serialize(Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow.AddMinutes(-1), businessKey: businessKey), WireJson.Options);

    /// <summary>Each poison class found by fuzzing, as raw JSON text of one event, and a word of the reason it must be refused for.</summary>
    public static TheoryData<string, string, string> PoisonClasses() => new()
    {
        { "lone surrogate in idempotency_key", Poison("\"idempotency_key\": \"k-\\ud800\""), "idempotency_key holds a lone UTF-16 surrogate" },
        { "lone surrogate in a metadata key", Poison("\"event\": {\"kind\": \"started\", \"at\": \"2026-11-22T08:00:00Z\", \"metadata\": {\"\\udfff\": 1}}"), "a key in event.metadata holds a lone" },
        { "number jsonb cannot hold", Poison("\"event\": {\"kind\": \"started\", \"at\": \"2026-11-22T08:00:00Z\", \"metadata\": {\"n\": 1e200000}}"), "outside the range of a double" },
        { "number that reads as 0", Poison("\"event\": {\"kind\": \"metric\", \"at\": \"2026-11-22T08:00:00Z\", \"metrics\": {\"cpu_user_s\": 1e-1000000}}"), "too small" },
        { "year 1", Poison("\"event\": {\"kind\": \"started\", \"at\": \"0001-01-01T00:00:00Z\"}"), "between 1970-01-01" },
        { "duplicate key", Poison("\"site_id\": \"fab1\", \"site_id\": \"fab1\""), "'site_id' appears twice" },
        { "nested 70 deep", Poison($"\"event\": {{\"kind\": \"started\", \"at\": \"2026-11-22T08:00:00Z\", \"metadata\": {{\"n\": {new string('[', 70)}{new string(']', 70)}}}}}"), "deeper than 64" },
    };

    /// <summary>A valid event for fab1 with one member replaced (or added) by <paramref name="member"/>.</summary>
    private static string Poison(string member)
    {
        var name = member[1..member.IndexOf('"', 1)];
        var fields = new Dictionary<string, string>
        {
            ["idempotency_key"] = $"\"idempotency_key\": \"{Guid.NewGuid()}\"",
            ["site_id"] = "\"site_id\": \"fab1\"",
            ["app"] = "\"app\": {\"app_id\": \"0b8f6c1e-3f0a-4b52-8f2d-1c9e7a6b5d40\", \"name\": \"poison\", \"version\": \"1\"}",
            ["entity"] = $"\"entity\": {{\"type\": \"job\", \"id\": \"{Guid.NewGuid()}\", \"business_key\": \"poison\"}}",
            ["event"] = "\"event\": {\"kind\": \"started\", \"at\": \"2026-11-22T08:00:00Z\"}",
        };
        fields[name] = member;
        return "{" + string.Join(", ", fields.Values) + "}";
    }

    [Theory]
    [MemberData(nameof(PoisonClasses))]
    public async Task A_poison_event_is_rejected_alone_and_its_neighbours_are_stored(string poisonClass, string poison, string reason)
    {
        foreach (var resource in new[] { "localapi-fab1", "sidecar-fab1" })
        {
            using var client = fab.Client(resource);
            var lot = $"neighbours-{Guid.NewGuid():N}";
            using var response = await client.PostAsync("/v1/ingest/events:batch", Json($"[{Valid(lot)}, {poison}, {Valid(lot)}]"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{poisonClass} at {resource}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var result = (await response.Content.ReadFromJsonAsync<BatchIngestResult>(WireJson.Options))!;
            Assert.Equal(2, result.Accepted);
            var rejected = Assert.Single(result.Rejected);
            Assert.Equal((1, RejectionCodes.Invalid), (rejected.Index, rejected.Code));
            Assert.Contains(reason, rejected.Error);

            using var single = await client.PostAsync("/v1/ingest/events", Json(poison));
            Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
            Assert.Equal("application/problem+json", single.Content.Headers.ContentType?.MediaType);

            using var localApi = fab.Client("localapi-fab1");
            await Events.Eventually(async () =>
                (await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key={lot}")).GetProperty("count").GetInt32() == 2,
                $"both neighbours of the {poisonClass} event stored via {resource}");
        }
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task Json_media_types_or_none_are_accepted_and_others_are_415(string resource)
    {
        using var client = fab.Client(resource);
        foreach (var mediaType in new[] { "application/vnd.wafer+json", "application/json" })
        {
            using var accepted = await client.PostAsync("/v1/ingest/events:batch", Json($"[{Valid("media")}]", mediaType));
            Assert.True(accepted.IsSuccessStatusCode, $"{mediaType}: {(int)accepted.StatusCode}");
        }
        var bare = new ByteArrayContent(Encoding.UTF8.GetBytes($"[{Valid("media")}]"));
        Assert.True((await client.PostAsync("/v1/ingest/events:batch", bare)).IsSuccessStatusCode);
        using var textJson = await client.PostAsync("/v1/ingest/events:batch", Json($"[{Valid("media")}]", "text/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, textJson.StatusCode);
        using var text = await client.PostAsync("/v1/ingest/events:batch", Json($"[{Valid("media")}]", "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        Assert.Equal("application/problem+json", text.Content.Headers.ContentType?.MediaType);
        Assert.Contains("send application/json", (await text.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task A_body_nested_past_the_body_limit_is_refused_whole_with_400(string resource)
    {
        using var client = fab.Client(resource);
        var deep = new string('[', 1200) + new string(']', 1200);
        using var response = await client.PostAsync("/v1/ingest/events:batch", Json(deep));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task A_chunk_size_past_any_length_is_answered_400(string resource)
    {
        var answer = await RawExchangeAsync(resource, Http(
            "POST /v1/ingest/events:batch HTTP/1.1", "Host: x", IngestAuthorization(resource), "Content-Type: application/json", "Transfer-Encoding: chunked", "",
            "ffffffffffffffffff", "[]", ""), halfClose: false);
        Assert.True(answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"answer: {answer}");
        // Kestrel's verdict on the body, not on a malformed request line.
        Assert.Contains("request body could not be read", answer);
    }

    [Theory]
    [InlineData("localapi-fab1")]
    [InlineData("sidecar-fab1")]
    public async Task A_body_shorter_than_its_content_length_gets_no_5xx_and_the_service_carries_on(string resource)
    {
        // Kestrel takes the half-close for the client going away, so there may be no answer at all; what must not happen
        // is a 500, or a service left unable to answer the next request.
        var answer = await RawExchangeAsync(resource, Http(
            "POST /v1/ingest/events:batch HTTP/1.1", "Host: x", IngestAuthorization(resource), "Content-Type: application/json", "Content-Length: 500", "",
            "[{\"a\": 1}"), halfClose: true);
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 4", StringComparison.Ordinal), $"answer: {answer}");
        using var client = fab.Client(resource);
        Assert.True((await client.GetAsync("/health")).IsSuccessStatusCode);
    }

    /// <summary>The header a LocalApi's ingest needs (its Sidecar's key); the loopback Sidecar needs none but takes it.</summary>
    private string IngestAuthorization(string resource) =>
        $"Authorization: Bearer {fab.IngestKey(resource.Replace("sidecar-", "localapi-", StringComparison.Ordinal))}";

    /// <summary>An HTTP/1.1 message from its lines, joined with CRLF as the protocol wants.</summary>
    private static string Http(params string[] lines) => string.Join("\r\n", lines);

    private async Task<string> RawExchangeAsync(string resource, string request, bool halfClose)
    {
        using var client = fab.Client(resource);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        if (halfClose)
            tcp.Client.Shutdown(SocketShutdown.Send);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            // Until the server closes the connection, which it does after an answer to a request it cannot read on from.
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        catch (IOException)
        {
            // Reset by the server: no answer.
        }
        catch (OperationCanceledException)
        {
            // Still open after the timeout: whatever arrived is the answer.
        }
        return answer.ToString();
    }

    [Theory]
    [InlineData("/v1/jobs?app_name=a%00b")]
    [InlineData("/v1/subjobs?business_key=%00")]
    [InlineData("/v1/jobs?to=0001-01-01T00:00:00Z")]
    [InlineData("/v1/jobs?from=9999-12-31T23:59:59Z")]
    [InlineData("/v1/stats?to=0001-01-02T00:00:00Z")]
    [InlineData("/v1/stats?bucket=999999999d")]
    [InlineData("/v1/stats?bucket=9223372036854775807ms")]
    [InlineData("/v1/stats?from=0001-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=1d")]
    public async Task Query_parameters_are_checked_before_sql_and_arithmetic(string query)
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.GetAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_text_filter_longer_than_any_stored_name_is_400()
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.GetAsync("/v1/subjobs?app_name=" + new string('x', 5000));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_too()
    {
        using var client = fab.Client("localapi-fab1");
        using var response = await client.GetAsync("/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Central_stats_answer_for_every_site_and_for_one()
    {
        // Whether fab2 runs a job depends on the tests before this one; StatsCombinerTests pins the idle case itself.
        using var central = fab.Client("central");
        using var response = await central.GetAsync("/v1/stats");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var combined = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("combined");
        Assert.True(combined.GetProperty("running").GetProperty("count").GetInt32() >= 0);
        using var onlyIdle = await central.GetAsync("/v1/stats?site=fab2");
        Assert.Equal(HttpStatusCode.OK, onlyIdle.StatusCode);
    }

    [Fact]
    public async Task A_metric_at_the_edge_of_double_range_is_binned_and_the_rollup_keeps_going()
    {
        using var client = fab.Client("localapi-fab1");
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        var huge = Guid.NewGuid();
        var after = Guid.NewGuid();
        await Events.PostBatchAsync(client, [
            Events.Job(huge, EventKinds.Finished, at, status: "succeeded", metrics: new() { ["cpu_user_s"] = 1.79e308, ["duration_s"] = -1.79e308 }),
            Events.Job(after, EventKinds.Finished, at.AddMinutes(10), status: "succeeded", metrics: new() { ["duration_s"] = 2 }),
        ]);
        var connection = fab.ConnectionString("monitor-fab1");
        await Events.Eventually(async () => (await Sql.QueryAsync(connection, "SELECT count(*) FROM job_stats_dirty"))[0][0] is 0L,
            "the rollup to fold both granules", TimeSpan.FromSeconds(60));
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches(@"(?m)^stats_values_clamped_total(\{[^}]*\})? [1-9]", metrics);
        var health = await client.GetFromJsonAsync<JsonElement>("/v1/healthz");
        Assert.NotEqual("degraded", health.GetProperty("checks").GetProperty("background").GetProperty("status").GetString());
        var stats = await client.GetFromJsonAsync<JsonElement>($"/v1/stats?from={at.AddHours(-1):O}&to={at.AddHours(1):O}".Replace("+", "%2B"));
        Assert.True(stats.GetProperty("counts").GetProperty("succeeded").GetInt32() >= 2);
    }
}
