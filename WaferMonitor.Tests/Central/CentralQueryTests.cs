using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;
using static WaferMonitor.Tests.Central.CentralResponses;

namespace WaferMonitor.Tests.Central;

/// <summary>CentralApi over the shared fab's sites fab1 and fab2: merged paging, forwarding, site errors in parameters.</summary>
[Collection(FabCollection.Name)]
public sealed class CentralQueryTests(FabFixture fab)
{
    private static readonly string[] FabSites = ["fab1", "fab2"];

    /// <summary>Stores jobs on both sites in alternating batches, so the sites' store times interleave.</summary>
    private async Task<Dictionary<Guid, string>> InterleaveJobsAsync(string businessKey, int rounds, params int[] perSite)
    {
        var jobs = new Dictionary<Guid, string>();
        for (var round = 0; round < rounds; round++)
        {
            for (var s = 0; s < FabSites.Length; s++)
            {
                var site = FabSites[s];
                var batch = Enumerable.Range(0, perSite[s]).Select(_ => Guid.NewGuid()).ToList();
                using var localApi = fab.Client($"localapi-{site}");
                await Events.PostBatchAsync(localApi, batch.Select(id =>
                    Events.Job(id, EventKinds.Started, DateTimeOffset.UtcNow.AddMinutes(-1), site: site, businessKey: businessKey)));
                foreach (var id in batch)
                    jobs[id] = site;
            }
        }
        return jobs;
    }

    private static async Task<List<JsonElement>> PageAllAsync(HttpClient central, string query, int limit, Func<int, Task>? afterPage = null)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        for (var page = 0; page < 1000; page++)
        {
            var url = $"/v1/jobs?{query}&limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}");
            var (status, body, _) = await GetAsync(central, url);
            Assert.Equal(200, status);
            Assert.False(body.GetProperty("partial").GetBoolean());
            var pageItems = body.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(pageItems.Count, body.GetProperty("count").GetInt32());
            Assert.True(pageItems.Count <= limit);
            items.AddRange(pageItems);
            if (afterPage is not null)
                await afterPage(page);
            if (body.GetProperty("next_cursor").ValueKind == JsonValueKind.Null)
                return items;
            cursor = body.GetProperty("next_cursor").GetString();
        }
        Assert.Fail("paging did not end");
        return items;
    }

    [Fact]
    public async Task Merged_paging_over_two_sites_shows_every_job_exactly_once_newest_first()
    {
        var key = "merge-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = await InterleaveJobsAsync(key, rounds: 5, 3, 2);
        using var central = fab.Client("central");

        var items = await PageAllAsync(central, $"business_key={key}", limit: 4);

        Assert.Equal(jobs.Keys.Order(), items.Select(i => i.GetProperty("job_id").GetGuid()).Order());
        var storedAt = items.Select(i => i.GetProperty("stored_at").GetDateTimeOffset()).ToList();
        Assert.Equal(storedAt.OrderDescending(), storedAt);
        Assert.All(items, i => Assert.Equal(jobs[i.GetProperty("job_id").GetGuid()], i.GetProperty("site_id").GetString()));
        foreach (var site in FabSites)
        {
            using var localApi = fab.Client($"localapi-{site}");
            var own = JobIds(await localApi.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key={key}"));
            Assert.Equal(own, items.Where(i => i.GetProperty("site_id").GetString() == site).Select(i => i.GetProperty("job_id").GetGuid()));
        }
    }

    [Fact]
    public async Task Merged_paging_shows_every_job_once_while_new_jobs_arrive()
    {
        var key = "arrive-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = await InterleaveJobsAsync(key, rounds: 4, 2, 3);
        using var central = fab.Client("central");

        var items = await PageAllAsync(central, $"business_key={key}", limit: 3, afterPage: async page =>
        {
            if (page < 3)
                await InterleaveJobsAsync(key, rounds: 1, 1, 1);
        });

        var seen = items.Select(i => i.GetProperty("job_id").GetGuid()).ToList();
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), jobs.Keys.ToHashSet());
    }

    [Fact]
    public async Task Site_parameter_forwards_to_that_site_with_its_contract()
    {
        var key = "fwd-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = await InterleaveJobsAsync(key, rounds: 2, 2, 2);
        var fab1Job = jobs.First(j => j.Value == "fab1").Key;
        var fab2Job = jobs.First(j => j.Value == "fab2").Key;
        var subjobId = Guid.NewGuid();
        using (var localApi = fab.Client("localapi-fab1"))
            await Events.PostBatchAsync(localApi, [Events.Subjob(subjobId, fab1Job, EventKinds.Started, DateTimeOffset.UtcNow.AddMinutes(-1))]);
        using var central = fab.Client("central");
        using var fab2 = fab.Client("localapi-fab2");

        var (status, forwarded, _) = await GetAsync(central, $"/v1/jobs?site=fab2&business_key={key}&limit=1");
        Assert.Equal(200, status);
        var direct = await fab2.GetFromJsonAsync<JsonElement>($"/v1/jobs?business_key={key}&limit=1");
        Assert.Equal(JobIds(direct), JobIds(forwarded));
        Assert.Equal(direct.GetProperty("next_cursor").GetString(), forwarded.GetProperty("next_cursor").GetString());
        var (_, second, _) = await GetAsync(central, $"/v1/jobs?site=fab2&business_key={key}&limit=1&cursor={forwarded.GetProperty("next_cursor").GetString()}");
        Assert.NotEqual(JobIds(forwarded), JobIds(second));
        Assert.Equal("fab2", Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("site_id").GetString());

        var (_, subjobs, _) = await GetAsync(central, $"/v1/subjobs?site=fab1&job_id={fab1Job}");
        Assert.Equal(subjobId, Assert.Single(subjobs.GetProperty("items").EnumerateArray()).GetProperty("subjob_id").GetGuid());
        var (_, allSubjobs, _) = await GetAsync(central, $"/v1/subjobs?job_id={fab1Job}");
        Assert.Equal(subjobId, Assert.Single(allSubjobs.GetProperty("items").EnumerateArray()).GetProperty("subjob_id").GetGuid());
        Assert.False(allSubjobs.GetProperty("partial").GetBoolean());

        var (detailStatus, detail, _) = await GetAsync(central, $"/v1/jobs/{fab1Job}?site=fab1");
        Assert.Equal(200, detailStatus);
        Assert.Equal(subjobId, Assert.Single(detail.GetProperty("subjobs").EnumerateArray()).GetProperty("subjob_id").GetGuid());
        Assert.Equal(404, (await GetAsync(central, $"/v1/jobs/{fab1Job}?site=fab2")).Status);
    }

    [Fact]
    public async Task Job_detail_without_site_is_found_on_the_site_that_has_it()
    {
        var key = "find-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = await InterleaveJobsAsync(key, rounds: 1, 1, 1);
        using var central = fab.Client("central");
        foreach (var (jobId, site) in jobs)
        {
            var (status, detail, _) = await GetAsync(central, $"/v1/jobs/{jobId}");
            Assert.Equal(200, status);
            Assert.Equal(site, detail.GetProperty("job").GetProperty("site_id").GetString());
            Assert.Equal(jobId, detail.GetProperty("job").GetProperty("job_id").GetGuid());
        }
        var (missing, problem, _) = await GetAsync(central, $"/v1/jobs/{Guid.NewGuid()}");
        Assert.Equal(404, missing);
        Assert.False(problem.GetProperty("partial").GetBoolean());
    }

    [Theory]
    [InlineData("/v1/jobs?site=nowhere")]
    [InlineData("/v1/subjobs?site=fab1,nowhere")]
    [InlineData("/v1/stats?site=nowhere")]
    [InlineData("/v1/jobs/6a1c0d4e-8f51-4d7b-9a38-2f1d6c0b7e11?site=nowhere")]
    public async Task An_unknown_site_is_a_404_problem(string url)
    {
        using var central = fab.Client("central");
        using var response = await central.GetAsync(url);
        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("nowhere", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/v1/jobs?limit=0", "limit")]
    [InlineData("/v1/jobs?limit=10001", "limit")]
    [InlineData("/v1/jobs?cursor=bm90IGEgY3Vyc29y", "cursor")]
    [InlineData("/v1/subjobs?status=exploded", "status")]
    [InlineData("/v1/jobs?from=yesterday", "from")]
    public async Task Bad_parameters_of_a_fan_out_are_a_400_naming_the_parameter(string url, string parameter)
    {
        using var central = fab.Client("central");
        var (status, problem, _) = await GetAsync(central, url);
        Assert.Equal(400, status);
        Assert.Contains(parameter, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Sites_and_health_show_every_site_with_status_latency_and_last_contact()
    {
        using var central = fab.Client("central");
        await Events.Eventually(async () =>
        {
            var sites = (await central.GetFromJsonAsync<JsonElement>("/v1/sites")).GetProperty("sites").EnumerateArray().ToList();
            return sites.Count == 2 && sites.All(s => s.GetProperty("status").GetString() == "ok");
        }, "both sites ok in /v1/sites");

        var listed = (await central.GetFromJsonAsync<JsonElement>("/v1/sites")).GetProperty("sites").EnumerateArray().ToList();
        Assert.Equal(FabSites, listed.Select(s => s.GetProperty("site_id").GetString()));
        Assert.All(listed, s =>
        {
            Assert.Equal($"http://localapi-{s.GetProperty("site_id").GetString()}/", s.GetProperty("url").GetString());
            Assert.True(s.GetProperty("latency_ms").GetDouble() >= 0);
            Assert.True(s.GetProperty("last_contact_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
            Assert.Equal(JsonValueKind.Null, s.GetProperty("error").ValueKind);
        });

        var health = await central.GetFromJsonAsync<JsonElement>("/v1/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("ok", health.GetProperty("checks").GetProperty("sites").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Stats_list_every_site_and_sum_counts_in_the_combined_view()
    {
        using var central = fab.Client("central");
        var (status, stats, _) = await GetAsync(central, "/v1/stats");
        Assert.Equal(200, status);
        var sites = stats.GetProperty("sites");
        var errors = stats.GetProperty("site_errors");
        // A site without /v1/stats (an older LocalApi) is a site error, never a failure of the whole request.
        Assert.All(FabSites, site => Assert.True(sites.TryGetProperty(site, out _) ^ errors.TryGetProperty(site, out _)));
        Assert.Equal(errors.EnumerateObject().Any(), stats.GetProperty("partial").GetBoolean());
        var combinedTotal = stats.GetProperty("combined").GetProperty("counts").TryGetProperty("total", out var total) ? total.GetInt64() : 0;
        var siteTotals = sites.EnumerateObject().Sum(s => s.Value.GetProperty("counts").GetProperty("total").GetInt64());
        Assert.Equal(siteTotals, combinedTotal);
        Assert.Equal(
            sites.EnumerateObject().Sum(s => s.Value.GetProperty("running").GetProperty("count").GetInt64()),
            stats.GetProperty("combined").GetProperty("running").GetProperty("count").GetInt64());
    }
}
