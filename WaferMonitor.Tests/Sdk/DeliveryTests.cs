using System.Diagnostics.Metrics;
using System.Text.Json;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Sdk;

public sealed class DeliveryTests
{
    [Fact]
    public void Full_queue_drops_oldest_progress_and_metric_first_then_new_expendables_then_oldest_of_any_kind()
    {
        var queue = new EventQueue(capacity: 3);
        Assert.Null(queue.Enqueue(EventKinds.Started, "s1", [], out _));
        Assert.Null(queue.Enqueue(EventKinds.Progress, "p1", [], out _));
        Assert.Null(queue.Enqueue(EventKinds.Metric, "m1", [], out _));

        Assert.Equal("p1", queue.Enqueue(EventKinds.Finished, "f1", [], out _)?.IdempotencyKey);
        Assert.Equal("m1", queue.Enqueue(EventKinds.Started, "s2", [], out _)?.IdempotencyKey);
        Assert.Equal("p2", queue.Enqueue(EventKinds.Progress, "p2", [], out _)?.IdempotencyKey);
        Assert.Equal("s1", queue.Enqueue(EventKinds.Error, "e2", [], out var queued)?.IdempotencyKey);
        Assert.Equal(3, queued);

        Assert.Equal(["f1", "s2", "e2"], queue.TakeBatch(10, int.MaxValue).Select(e => e.IdempotencyKey));
    }

    [Fact]
    public void Batches_keep_arrival_order_and_respect_count_and_byte_limits()
    {
        var queue = new EventQueue(capacity: 10);
        queue.Enqueue(EventKinds.Started, "a", new byte[10], out _);
        queue.Enqueue(EventKinds.Progress, "b", new byte[10], out _);
        queue.Enqueue(EventKinds.Finished, "c", new byte[10], out _);
        queue.Enqueue(EventKinds.Started, "d", new byte[10], out _);

        var first = queue.TakeBatch(maxCount: 10, maxBytes: 25);
        Assert.Equal(["a", "b"], first.Select(e => e.IdempotencyKey));
        Assert.Empty(queue.TakeBatch(10, 1000));
        Assert.False(queue.IsResolvedThrough(first[0].Sequence));
        queue.CompleteBatch();
        Assert.True(queue.IsResolvedThrough(first[1].Sequence));
        Assert.Equal(["c"], queue.TakeBatch(maxCount: 1, maxBytes: 1000).Select(e => e.IdempotencyKey));
    }

    [Fact]
    public async Task Drops_are_counted_in_the_property_and_the_meter_and_the_survivors_arrive()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        // The sender only wakes on a full batch or the flush interval; with neither reachable nothing leaves the
        // queue until disposal, so the drop order is exact.
        await using var client = TestClients.Create(sidecar.Url, o =>
        {
            o.QueueCapacity = 5;
            o.FlushInterval = TimeSpan.FromHours(1);
        });
        var dropped = new List<(long Value, string Kind, string Reason)>();
        using var listener = ListenToDrops(client, dropped);

        var job = client.StartJob("lot-drop");
        for (var i = 0; i < 4; i++)
            job.Tick(i / 4.0);
        job.Tick(1.0);
        job.Metric("yield", 0.97);
        job.Dispose();
        var wafer = job.StartSubjob("wafer-01");
        wafer.Dispose();
        job.StartSubjob("wafer-02").Dispose();

        Assert.Equal(7, client.DroppedEvents);
        await client.DisposeAsync();

        lock (dropped)
        {
            Assert.Equal(7, dropped.Sum(d => d.Value));
            Assert.Equal(5, dropped.Where(d => d.Kind == EventKinds.Progress).Sum(d => d.Value));
            Assert.Equal(1, dropped.Where(d => d.Kind == EventKinds.Metric).Sum(d => d.Value));
            Assert.Equal(1, dropped.Where(d => d.Kind == EventKinds.Started).Sum(d => d.Value));
            Assert.All(dropped, d => Assert.Equal("queue_full", d.Reason));
        }
        var arrived = sidecar.Accepted.Select(e => (e.Kind(), e.SubKey() ?? e.GetProperty("entity").GetProperty("business_key").GetString())).ToList();
        Assert.Equal(
        [
            (EventKinds.Finished, "lot-drop"),
            (EventKinds.Started, "wafer-01"), (EventKinds.Finished, "wafer-01"),
            (EventKinds.Started, "wafer-02"), (EventKinds.Finished, "wafer-02"),
        ], arrived);
    }

    [Fact]
    public async Task Unreachable_sidecar_never_throws_and_undelivered_events_are_counted_at_disposal()
    {
        var sidecar = await FakeSidecar.StartAsync();
        var url = sidecar.Url;
        await sidecar.DisposeAsync();

        var client = TestClients.Create(url, o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        await using (var job = client.StartJob("lot-offline"))
        {
            job.Tick(0.1);
            job.Metric("temperature_c", 21.5);
            Assert.Throws<ArithmeticException>(() => job.StartSubjob("wafer-01").Run(_ => throw new ArithmeticException("boom")));
        }
        Assert.False(await client.FlushAsync(TimeSpan.FromMilliseconds(100)));
        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(6, client.DroppedEvents);
        Assert.Equal(0, client.PendingEvents);
        await using (var late = client.StartJob("after-dispose"))
            late.Tick();
        Assert.Equal(9, client.DroppedEvents);
    }

    [Fact]
    public async Task Disposal_drains_events_the_sender_had_not_sent_yet()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var client = TestClients.Create(sidecar.Url, o => o.FlushInterval = TimeSpan.FromHours(1));
        await using (var job = client.StartJob("lot-drain"))
            for (var i = 1; i <= 3; i++)
                job.StartSubjob($"wafer-{i:D2}").Dispose();
        Assert.Empty(sidecar.Batches);
        Assert.Equal(8, client.PendingEvents);

        await client.DisposeAsync();

        Assert.Equal(8, sidecar.Accepted.Count);
        Assert.Equal(0, client.DroppedEvents);
    }

    [Fact]
    public async Task Retries_resend_the_same_idempotency_keys_until_the_sidecar_accepts()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        sidecar.FailNext(503, 500, 429);
        await using var client = TestClients.Create(sidecar.Url, o => o.FlushInterval = TimeSpan.FromHours(1));
        await using (var job = client.StartJob("lot-retry"))
            job.Tick(0.5);
        Assert.True(await client.FlushAsync(TimeSpan.FromSeconds(30)));

        var batches = sidecar.Batches;
        Assert.Equal([503, 500, 429, 200], batches.Select(b => b.Status));
        var keys = batches[0].Events.Select(FakeSidecar.Key).ToList();
        Assert.Equal(3, keys.Distinct().Count());
        Assert.All(batches, b => Assert.Equal(keys, b.Events.Select(FakeSidecar.Key)));
        Assert.Equal(0, client.DroppedEvents);
    }

    [Fact]
    public async Task Rejected_events_and_refused_batches_are_counted_as_dropped_not_retried()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        sidecar.Reject(e => e.Kind() == EventKinds.Progress);
        await using var client = TestClients.Create(sidecar.Url, o => o.FlushInterval = TimeSpan.FromHours(1));
        await using (var job = client.StartJob("lot-reject"))
            job.Tick(0.5);
        Assert.True(await client.FlushAsync());
        Assert.Equal(1, client.DroppedEvents);
        Assert.Equal(2, sidecar.Accepted.Count);

        sidecar.Reject(_ => false);
        sidecar.FailNext(400);
        await using (var job = client.StartJob("lot-refused"))
            job.Tick(0.5);
        Assert.True(await client.FlushAsync());
        Assert.Equal(4, client.DroppedEvents);
        Assert.Equal(2, sidecar.Batches.Count);
    }

    [Fact]
    public async Task A_v2_sidecars_answer_counts_as_delivered()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        sidecar.AnswerAsV2();
        await using var client = TestClients.Create(sidecar.Url, o => o.FlushInterval = TimeSpan.FromHours(1));
        await using (var job = client.StartJob("lot-v2"))
            job.Tick(0.5);
        Assert.True(await client.FlushAsync());
        Assert.Equal([200], sidecar.Batches.Select(b => b.Status));
        Assert.Equal(3, sidecar.Accepted.Count);
        Assert.Equal(0, client.DroppedEvents);
    }

    [Fact]
    public async Task A_batch_refused_as_too_large_is_split_until_it_fits()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        sidecar.TooLargeAbove(2);
        await using var client = TestClients.Create(sidecar.Url, o => o.FlushInterval = TimeSpan.FromHours(1));
        await using (var job = client.StartJob("lot-split"))
            for (var i = 0; i < 5; i++)
                job.Tick(i / 5.0);
        Assert.True(await client.FlushAsync());

        Assert.Equal(7, sidecar.Accepted.Count);
        Assert.Equal(7, sidecar.Accepted.Select(FakeSidecar.Key).Distinct().Count());
        Assert.Contains(sidecar.Batches, b => b.Status == 413);
        Assert.Equal(0, client.DroppedEvents);
    }

    [Fact]
    public async Task Scopes_are_thread_safe_under_concurrent_use()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        await using (var client = TestClients.Create(sidecar.Url, o => o.MaxBatchSize = 7))
        {
            await using var job = client.StartJob("lot-parallel");
            await Parallel.ForEachAsync(Enumerable.Range(1, 25), async (i, _) =>
            {
                await job.StartSubjob($"wafer-{i:D2}").RunAsync(async wafer =>
                {
                    await Task.Yield();
                    wafer.Tick(0.5);
                    job.Metric("wafers_started", i);
                });
            });
        }

        var events = sidecar.Accepted;
        Assert.Equal(2 + 25 * 4, events.Count);
        Assert.Equal(events.Count, events.Select(FakeSidecar.Key).Distinct().Count());
    }

    private static MeterListener ListenToDrops(MonitorClient client, List<(long, string, string)> sink)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, client.Telemetry.Meter) && instrument.Name == SdkTelemetryNames.EventsDropped)
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? kind = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "kind")
                    kind = tag.Value as string;
                if (tag.Key == "reason")
                    reason = tag.Value as string;
            }
            lock (sink)
                sink.Add((value, kind!, reason!));
        });
        listener.Start();
        return listener;
    }
}
