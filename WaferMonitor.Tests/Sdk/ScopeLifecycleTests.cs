using System.Diagnostics;
using System.Text.Json;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Sdk;

public sealed class ScopeLifecycleTests
{
    [Fact]
    public async Task Job_and_subjobs_send_started_progress_metric_and_finished_with_metrics()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        Guid jobId, waferId;
        await using (var client = TestClients.Create(sidecar.Url))
        {
            await using (var job = client.StartJob("lot-7", new Dictionary<string, object?> { ["priority"] = "high" }))
            {
                jobId = job.Id;
                await using (var wafer = job.StartSubjob("wafer-01", new { RecipeName = "etch-3" }))
                {
                    waferId = wafer.Id;
                    wafer.Tick(0.5, new { step = "etch" });
                    wafer.Metric("thickness_nm", 812.5);
                }
            }
            Assert.True(await client.FlushAsync());
            Assert.Equal(0, client.DroppedEvents);
        }

        var events = sidecar.Accepted;
        Assert.Equal(6, events.Count);
        Assert.Equal(events.Count, events.Select(FakeSidecar.Key).Distinct().Count());
        foreach (var e in events)
        {
            var parsed = EventParser.Parse(e, new IngestLimits(), "fab1", DateTimeOffset.UtcNow);
            Assert.True(parsed.IsValid, parsed.Error);
            Assert.Equal("fab1", e.GetProperty("site_id").GetString());
            Assert.Equal(TestClients.App.AppId.ToString(), e.GetProperty("app").GetProperty("app_id").GetString());
            Assert.Equal("wafer-process", e.GetProperty("app").GetProperty("name").GetString());
            var at = e.GetProperty("event").GetProperty("at").GetString()!;
            Assert.EndsWith("+00:00", at);
        }

        var jobStarted = events.Single(jobId, EventKinds.Started);
        Assert.Equal(EntityStatuses.Running, jobStarted.Status());
        Assert.Equal("job", jobStarted.GetProperty("entity").GetProperty("type").GetString());
        Assert.Equal("lot-7", jobStarted.GetProperty("entity").GetProperty("business_key").GetString());
        Assert.Equal(JsonValueKind.Null, jobStarted.GetProperty("entity").GetProperty("parent_id").ValueKind);
        Assert.Equal("high", jobStarted.Metadata().GetProperty("priority").GetString());

        var waferStarted = events.Single(waferId, EventKinds.Started);
        Assert.Equal("subjob", waferStarted.GetProperty("entity").GetProperty("type").GetString());
        Assert.Equal(jobId.ToString(), waferStarted.GetProperty("entity").GetProperty("parent_id").GetString());
        Assert.Equal("wafer-01", waferStarted.SubKey());
        Assert.Equal("etch-3", waferStarted.Metadata().GetProperty("recipe_name").GetString());

        var tick = events.Single(waferId, EventKinds.Progress);
        Assert.Equal(EntityStatuses.Running, tick.Status());
        Assert.Equal(0.5, tick.Metadata().GetProperty("progress").GetDouble());
        Assert.Equal("etch", tick.Metadata().GetProperty("step").GetString());

        var metric = events.Single(waferId, EventKinds.Metric);
        Assert.Equal(812.5, metric.Metrics().GetProperty("thickness_nm").GetDouble());

        foreach (var id in new[] { jobId, waferId })
        {
            var finished = events.Single(id, EventKinds.Finished);
            Assert.Equal(EntityStatuses.Succeeded, finished.Status());
            var metrics = finished.Metrics();
            foreach (var name in new[] { MetricNames.DurationSeconds, MetricNames.CpuUserSeconds, MetricNames.CpuSystemSeconds })
                Assert.True(metrics.GetProperty(name).GetDouble() >= 0, name);
            Assert.True(metrics.GetProperty(MetricNames.MemMaxMb).GetDouble() > 0);
        }
    }

    [Fact]
    public async Task Exception_escaping_RunAsync_is_recorded_as_error_and_rethrown()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        Guid waferId = default;
        await using (var client = TestClients.Create(sidecar.Url))
        {
            var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                client.StartJob("lot-8").RunAsync(async job =>
                {
                    await job.StartSubjob("wafer-13").RunAsync(async wafer =>
                    {
                        waferId = wafer.Id;
                        await Task.Yield();
                        throw new InvalidOperationException("chuck vacuum lost");
                    });
                }));
            Assert.Equal("chuck vacuum lost", thrown.Message);
        }

        var events = sidecar.Accepted;
        var error = events.Single(waferId, EventKinds.Error);
        Assert.Equal(EntityStatuses.Failed, error.Status());
        Assert.Equal(typeof(InvalidOperationException).FullName, error.Metadata().GetProperty("error_type").GetString());
        Assert.Equal("chuck vacuum lost", error.Metadata().GetProperty("error").GetString());
        Assert.True(error.Metrics().TryGetProperty(MetricNames.DurationSeconds, out _));
        Assert.Single(events, e => e.Kind() == EventKinds.Error && e.GetProperty("entity").GetProperty("type").GetString() == "job");
        Assert.DoesNotContain(events.Of(waferId), e => e.Kind() == EventKinds.Finished);
    }

    [Fact]
    public async Task Synchronous_Run_records_success_and_failure()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        Guid okId = default, badId = default;
        await using (var client = TestClients.Create(sidecar.Url))
        {
            client.StartJob("ok").Run(job => okId = job.Id);
            Assert.Throws<FormatException>(() => client.StartJob("bad").Run(job =>
            {
                badId = job.Id;
                throw new FormatException("bad recipe");
            }));
        }

        Assert.Equal(EntityStatuses.Succeeded, sidecar.Accepted.Single(okId, EventKinds.Finished).Status());
        Assert.Equal("bad recipe", sidecar.Accepted.Single(badId, EventKinds.Error).Metadata().GetProperty("error").GetString());
    }

    [Fact]
    public async Task Explicit_outcomes_end_the_scope_once_and_later_calls_are_ignored()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        Guid failedId, canceledId, completedId, abortedId = default;
        await using (var client = TestClients.Create(sidecar.Url))
        {
            await using (var failed = client.StartJob("failed"))
            {
                failedId = failed.Id;
                failed.Fail(new TimeoutException("tool did not answer"), new { tool = "etcher-2" });
                Assert.True(failed.IsEnded);
                failed.Tick(0.9);
                failed.Metric("late", 1);
                failed.Cancel();
            }
            await using (var canceled = client.StartJob("canceled"))
            {
                canceledId = canceled.Id;
                canceled.Cancel(new { reason = "operator" });
            }
            await using (var completed = client.StartJob("completed"))
            {
                completedId = completed.Id;
                completed.Complete(new { wafers = 25 });
            }
            using var cts = new CancellationTokenSource();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StartJob("aborted").RunAsync(async job =>
            {
                abortedId = job.Id;
                await cts.CancelAsync();
                cts.Token.ThrowIfCancellationRequested();
            }));
        }

        var events = sidecar.Accepted;
        var failedEvents = events.Of(failedId);
        Assert.Equal([EventKinds.Started, EventKinds.Error], failedEvents.Select(e => e.Kind()));
        Assert.Equal(typeof(TimeoutException).FullName, failedEvents[1].Metadata().GetProperty("error_type").GetString());
        Assert.Equal("etcher-2", failedEvents[1].Metadata().GetProperty("tool").GetString());

        var cancellation = events.Single(canceledId, EventKinds.Canceled);
        Assert.Equal(EntityStatuses.Canceled, cancellation.Status());
        Assert.Equal("operator", cancellation.Metadata().GetProperty("reason").GetString());
        Assert.Equal(2, events.Of(canceledId).Count);

        Assert.Equal(25, events.Single(completedId, EventKinds.Finished).Metadata().GetProperty("wafers").GetInt32());
        Assert.Equal(2, events.Of(completedId).Count);

        Assert.Equal(EntityStatuses.Canceled, events.Single(abortedId, EventKinds.Canceled).Status());
    }

    [Fact]
    public async Task Events_carry_trace_context_and_scopes_start_nested_activities()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is SdkTelemetryNames.ActivitySource or "WaferMonitor.Tests.Ambient",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                    stopped.Add(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var ambientSource = new ActivitySource("WaferMonitor.Tests.Ambient");

        Guid jobId = default, waferId = default;
        string? jobSpan = null, waferSpan = null;
        ActivityTraceId ambientTraceId;
        using (var ambient = ambientSource.StartActivity("request"))
        {
            Assert.NotNull(ambient);
            ambientTraceId = ambient.TraceId;
            await using (var client = TestClients.Create(sidecar.Url))
            {
                await client.StartJob("lot-traced").RunAsync(async job =>
                {
                    jobId = job.Id;
                    jobSpan = job.Activity!.SpanId.ToHexString();
                    Assert.Same(job.Activity, Activity.Current);
                    await job.StartSubjob("wafer-01").RunAsync(async wafer =>
                    {
                        waferId = wafer.Id;
                        waferSpan = wafer.Activity!.SpanId.ToHexString();
                        Assert.Same(wafer.Activity, Activity.Current);
                        Assert.Equal(job.Activity.SpanId, wafer.Activity.ParentSpanId);
                        await Task.Yield();
                        wafer.Tick(0.5);
                    });
                    Assert.Same(job.Activity, Activity.Current);
                });
                Assert.Same(ambient, Activity.Current);
            }

            var events = sidecar.Accepted;
            Assert.All(events, e => Assert.Equal(ambient.TraceId.ToHexString(), e.Metadata().GetProperty("trace_id").GetString()));
            Assert.All(events.Of(jobId), e => Assert.Equal(jobSpan, e.Metadata().GetProperty("span_id").GetString()));
            Assert.All(events.Of(waferId), e => Assert.Equal(waferSpan, e.Metadata().GetProperty("span_id").GetString()));
        }

        lock (stopped)
        {
            // The listener is process-wide: keep only this test's trace.
            stopped.RemoveAll(a => a.TraceId != ambientTraceId);
            var jobActivity = Assert.Single(stopped, a => a.OperationName == "wafermonitor.job");
            Assert.Equal("lot-traced", jobActivity.GetTagItem("wafermonitor.business_key"));
            Assert.Equal(EntityStatuses.Succeeded, jobActivity.GetTagItem("wafermonitor.status"));
            Assert.Single(stopped, a => a.OperationName == "wafermonitor.subjob");
        }
    }

    [Fact]
    public async Task Mem_max_mb_is_the_peak_sampled_during_the_scope_not_the_process_peak()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var probe = new ScriptedProbe { WorkingSet = 100 * Mb };
        Guid firstId, secondId;
        await using (var client = TestClients.Create(sidecar.Url, probe: probe))
        {
            await using (var first = client.StartJob("first"))
            {
                firstId = first.Id;
                probe.WorkingSet = 300 * Mb;
                var reads = probe.Reads;
                await Eventually.TrueAsync(() => probe.Reads >= reads + 2, "the sampler to read the working set");
                probe.WorkingSet = 150 * Mb;
            }
            await using (var second = client.StartJob("second"))
                secondId = second.Id;
        }

        Assert.Equal(300, sidecar.Accepted.Single(firstId, EventKinds.Finished).Metrics().GetProperty(MetricNames.MemMaxMb).GetDouble());
        Assert.Equal(150, sidecar.Accepted.Single(secondId, EventKinds.Finished).Metrics().GetProperty(MetricNames.MemMaxMb).GetDouble());
    }

    [Fact]
    public async Task Oversized_or_unserializable_metadata_is_replaced_by_a_marker_and_the_event_still_arrives()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var cyclic = new Dictionary<string, object?>();
        cyclic["self"] = cyclic;
        Guid jobId;
        await using (var client = TestClients.Create(sidecar.Url))
        {
            await using (var job = client.StartJob("lot-meta", new { blob = new string('x', 100_000) }))
            {
                jobId = job.Id;
                job.Tick(0.5, cyclic);
                job.Fail(new InvalidOperationException(new string('e', 70_000)));
            }
            Assert.True(await client.FlushAsync());
            Assert.Equal(0, client.DroppedEvents);
        }

        Assert.All(sidecar.Accepted, e => Assert.True(EventParser.Parse(e, new IngestLimits(), "fab1", DateTimeOffset.UtcNow).IsValid));
        var started = sidecar.Accepted.Single(jobId, EventKinds.Started).Metadata();
        Assert.True(started.GetProperty("metadata_truncated").GetBoolean());
        Assert.True(started.GetProperty("metadata_bytes").GetInt32() > 100_000);
        Assert.StartsWith("JsonException", sidecar.Accepted.Single(jobId, EventKinds.Progress).Metadata().GetProperty("metadata_error").GetString());
        var error = sidecar.Accepted.Single(jobId, EventKinds.Error).Metadata();
        Assert.Equal(typeof(InvalidOperationException).FullName, error.GetProperty("error_type").GetString());
        Assert.Equal(1024, error.GetProperty("error").GetString()!.Length);
    }

    private const long Mb = 1024 * 1024;

    private sealed class ScriptedProbe : ProcessProbe
    {
        private long _workingSet;
        private int _reads;

        public long WorkingSet
        {
            get => Interlocked.Read(ref _workingSet);
            set => Interlocked.Exchange(ref _workingSet, value);
        }

        public int Reads => Volatile.Read(ref _reads);

        public override long ReadWorkingSet()
        {
            Interlocked.Increment(ref _reads);
            return WorkingSet;
        }
    }
}
