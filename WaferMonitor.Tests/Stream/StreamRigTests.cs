using System.Net.Sockets;
using System.Text;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Streaming;

/// <summary>Stream behaviour that needs its own LocalApi settings: a small replay window, short heartbeats, slow clients.</summary>
[Collection(FabCollection.Name)]
public sealed class StreamRigTests(FabFixture fab)
{
    [Fact]
    public async Task An_id_older_than_the_replay_window_gets_a_reset_and_a_recent_one_resumes_then_heartbeats()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Stream__ReplayWindow"] = "20",
            ["Stream__HeartbeatInterval"] = "1s",
        });
        var url = rig.LocalApi.Url;
        var job = Guid.NewGuid();
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        var events = Enumerable.Range(0, 50)
            .Select(i => Events.Job(job, i == 0 ? EventKinds.Started : EventKinds.Progress, t.AddMilliseconds(i), site: rig.Site)).ToList();
        await using (var live = await SseClient.ConnectAsync(url, rig.App.AccessKey))
        {
            using var client = rig.Client("localapi");
            await Events.PostBatchAsync(client, events);
            // Once a live client has them, the feed has read them into its window.
            Assert.Equal(50, (await live.EventsAsync(50)).Count);
        }
        var stored = await StreamTestKit.StoredAsync(rig.ConnectionString, events.Select(e => e.IdempotencyKey));

        await using (var tooOld = await SseClient.ConnectAsync(url, rig.App.AccessKey, lastEventId: stored[0].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            var reset = await tooOld.NextAsync();
            Assert.NotNull(reset);
            Assert.Equal("reset", reset.Event);
            Assert.Equal(stored[30].Seq, reset.Json.GetProperty("oldest_available_seq").GetInt64());
            Assert.False(string.IsNullOrEmpty(reset.Json.GetProperty("reason").GetString()));
            Assert.Null(await tooOld.NextAsync());
        }

        await using var recent = await SseClient.ConnectAsync(url, rig.App.AccessKey, lastEventId: stored[29].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var replayed = await recent.EventsAsync(20);
        Assert.Equal(stored[30..].Select(s => s.Seq), replayed.Select(m => m.Seq));
        var idle = await recent.NextAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(idle);
        Assert.Equal("heartbeat", idle.Comment);
        Assert.Null(idle.Data);
    }

    [Fact]
    public async Task Events_stored_while_no_client_is_connected_are_replayed_to_the_next_one_then_live_ones_follow()
    {
        await using var rig = await SiteRig.StartAsync(fab);
        var url = rig.LocalApi.Url;
        using var client = rig.Client("localapi");
        var job = Guid.NewGuid();
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        WireEvent Progress(int i) => Events.Job(job, i == 0 ? EventKinds.Started : EventKinds.Progress, t.AddMilliseconds(i), site: rig.Site);
        long lastSeen;
        await using (var first = await SseClient.ConnectAsync(url, rig.App.AccessKey))
        {
            await Events.PostBatchAsync(client, [Progress(0)]);
            lastSeen = Assert.Single(await first.EventsAsync(1)).Seq;
        }

        // Nobody watches: the feed reads none of these; the next client's resume comes from the table.
        var unwatched = Enumerable.Range(1, 30).Select(Progress).ToList();
        foreach (var chunk in unwatched.Chunk(10))
            await Events.PostBatchAsync(client, chunk);
        await Task.Delay(500);
        var stored = await StreamTestKit.StoredAsync(rig.ConnectionString, unwatched.Select(e => e.IdempotencyKey));

        await using var next = await SseClient.ConnectAsync(url, rig.App.AccessKey, lastEventId: lastSeen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(stored.Select(s => s.Seq), (await next.EventsAsync(30)).Select(m => m.Seq));
        var live = Enumerable.Range(31, 5).Select(Progress).ToList();
        await Events.PostBatchAsync(client, live);
        var liveStored = await StreamTestKit.StoredAsync(rig.ConnectionString, live.Select(e => e.IdempotencyKey));
        Assert.Equal(liveStored.Select(s => s.Seq), (await next.EventsAsync(5)).Select(m => m.Seq));
    }

    [Fact]
    public async Task A_stalled_client_is_dropped_while_another_keeps_receiving()
    {
        await using var rig = await SiteRig.StartAsync(fab, localApiEnvironment: new Dictionary<string, string>
        {
            ["Stream__ClientQueueCapacity"] = "500",
            ["Stream__WriteTimeout"] = "2s",
        });
        var url = rig.LocalApi.Url;
        using var client = rig.Client("localapi");
        var app = StreamTestKit.UniqueApp();
        await using var healthy = await SseClient.ConnectAsync(url, rig.App.AccessKey, $"?app_name={app.Name}");

        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 1024 };
        await stalled.ConnectAsync("127.0.0.1", url.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /v1/stream?app_name={app.Name}&access_token={rig.App.AccessKey} HTTP/1.1\r\nHost: 127.0.0.1:{url.Port}\r\nAccept: text/event-stream\r\n\r\n"));
        await Events.Eventually(async () => await StreamTestKit.MetricAsync(client, "stream_clients") == 2, "both clients connected");

        var job = Guid.NewGuid();
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        var posted = new List<string>();
        var drops = 0.0;
        var padding = StreamTestKit.Padded(4096);
        for (var batch = 0; batch < 100 && drops == 0; batch++)
        {
            var events = Enumerable.Range(0, 50)
                .Select(i => Events.Job(job, EventKinds.Progress, t.AddMilliseconds(batch * 50 + i), site: rig.Site,
                    metadata: new { padding }).For(app))
                .ToList();
            Assert.Equal(events.Count, (await Events.PostBatchAsync(client, events)).Accepted);
            posted.AddRange(events.Select(e => e.IdempotencyKey));
            drops = await StreamTestKit.MetricAsync(client, "stream_clients_dropped_total");
        }
        await Events.Eventually(async () => await StreamTestKit.MetricAsync(client, "stream_clients_dropped_total") == 1, "the stalled client dropped");

        // The server closed the stalled connection: reading it now ends (end of stream or reset) instead of blocking.
        stalled.ReceiveTimeout = 10_000;
        var buffer = new byte[65536];
        var closed = false;
        for (var reads = 0; reads < 100_000 && !closed; reads++)
        {
            try
            {
                closed = await stalled.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10)) == 0;
            }
            catch (SocketException)
            {
                closed = true;
            }
        }
        Assert.True(closed);

        var last = Events.Job(job, EventKinds.Finished, t.AddSeconds(30), site: rig.Site, status: EntityStatuses.Succeeded).For(app);
        Assert.Equal(1, (await Events.PostBatchAsync(client, [last])).Accepted);
        posted.Add(last.IdempotencyKey);
        var received = await healthy.EventsAsync(posted.Count);
        var stored = await StreamTestKit.StoredAsync(rig.ConnectionString, posted);
        Assert.Equal(stored.Select(s => s.Seq), received.Select(m => m.Seq));
        await Events.Eventually(async () => await StreamTestKit.MetricAsync(client, "stream_clients") == 1, "only the healthy client connected");
    }
}
