using System.Net.Http.Json;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.LocalApi;

/// <summary>
/// <c>app_name</c> on <c>/v1/subjobs</c> and <c>/v1/jobs</c> (issue 19): the matching names are looked up first and each
/// gets its own newest-first branch; past <c>MaxNameBranches</c> names the rows are matched one by one. Either way the
/// answer is the contains-match, newest stored first, with paging.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class AppNameFilterTests(FabFixture fab)
{
    private static Guid[] SubjobIds(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("subjob_id").GetGuid()).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(20)]
    public async Task Subjobs_of_every_matching_app_newest_first_with_status_and_paging(int apps)
    {
        using var client = fab.Client("localapi-fab1");
        var marker = Guid.NewGuid().ToString("N")[..10];
        var names = Enumerable.Range(0, apps).Select(i => new AppRef(Guid.NewGuid(), $"Tool-{i}-{marker}-x", "1")).ToList();
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        var stored = new List<(Guid Id, string Status)>();
        // One batch per subjob, so the store order is the posting order.
        for (var i = 0; i < apps * 2; i++)
        {
            var id = Guid.NewGuid();
            var status = i % 3 == 0 ? EntityStatuses.Failed : EntityStatuses.Succeeded;
            var subjob = Events.Subjob(id, Guid.NewGuid(), EventKinds.Finished, at.AddSeconds(i), status: status) with { App = names[i % apps] };
            await Events.PostBatchAsync(client, [subjob]);
            stored.Add((id, status));
        }
        var newestFirst = stored.Select(s => s.Id).Reverse().ToArray();
        var pattern = marker.ToUpperInvariant();

        Assert.Equal(newestFirst, SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name={pattern}")));
        Assert.Equal(stored.Where(s => s.Status == EntityStatuses.Failed).Select(s => s.Id).Reverse(),
            SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name={pattern}&status=failed")));
        Assert.Equal(stored.Where((_, i) => i % apps == 1).Select(s => s.Id).Reverse(),
            SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name=tool-1-{marker}")));
        Assert.Empty(SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name={marker}-no-such")));
        Assert.Empty(SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/jobs?app_name={marker}")));

        var paged = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name={pattern}&limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            paged.AddRange(SubjobIds(page));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(newestFirst, paged);
    }

    [Fact]
    public async Task Like_wildcards_in_the_filter_are_literal()
    {
        using var client = fab.Client("localapi-fab1");
        var marker = Guid.NewGuid().ToString("N")[..10];
        var literal = new AppRef(Guid.NewGuid(), $"a%b_{marker}", "1");
        var other = new AppRef(Guid.NewGuid(), $"axxb-{marker}", "1");
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var id = Guid.NewGuid();
        await Events.PostBatchAsync(client, [
            Events.Subjob(id, Guid.NewGuid(), EventKinds.Progress, at) with { App = literal },
            Events.Subjob(Guid.NewGuid(), Guid.NewGuid(), EventKinds.Progress, at) with { App = other },
        ]);
        Assert.Equal([id], SubjobIds(await client.GetFromJsonAsync<JsonElement>($"/v1/subjobs?app_name={Uri.EscapeDataString($"a%b_{marker}")}")));
    }
}
