using System.Diagnostics;
using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Observability;

[Collection(FabCollection.Name)]
public sealed class TraceLinkTests(FabFixture fab)
{
    [Fact]
    public async Task One_sdk_job_is_linked_from_the_sidecar_and_localapi_batch_spans()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var otlp = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        await using var rig = await SiteRig.StartAsync(fab, otlp, otlp);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SdkTelemetryNames.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        string jobTrace;
        await using (var client = new MonitorClient(new MonitorOptions
                     {
                         SidecarUrl = rig.Sidecar.Url,
                         SiteId = rig.Site,
                         App = new AppRef(Guid.NewGuid(), "traced-app", "1.0.0"),
                         FlushInterval = TimeSpan.FromMilliseconds(20),
                     }, handler: null, timeProvider: null, logger: null, new ProcessProbe()))
        {
            using (var job = client.StartJob("traced-lot"))
            {
                jobTrace = job.Activity!.TraceId.ToHexString();
                using (job.StartSubjob("wafer-01"))
                {
                }
            }
            Assert.True(await client.FlushAsync());
        }

        bool Linked(ReceivedSpan span) => span.Links.Any(l => l.TraceId == jobTrace);
        await Events.Eventually(() => Task.FromResult(
                receiver.Spans.Any(s => s.Service == "sidecar" && s.Name == "spool.append" && Linked(s))
                && receiver.Spans.Any(s => s.Service == "sidecar" && s.Name == "forward.batch" && Linked(s))
                && receiver.Spans.Any(s => s.Service == "localapi" && s.Name == "ingest.batch" && Linked(s))),
            "sidecar and localapi spans linked to the job's trace", TimeSpan.FromSeconds(60));

        var spans = receiver.Spans;
        var forward = spans.First(s => s.Name == "forward.batch" && Linked(s));
        var ingest = spans.First(s => s.Name == "ingest.batch" && Linked(s));
        // The hop itself is one trace: forward.batch → HTTP client → LocalApi's request → ingest.batch → db steps.
        Assert.Equal(forward.TraceId, ingest.TraceId);
        Assert.Contains(spans, s => s.Service == "localapi" && s.Name == "db.copy event" && s.ParentSpanId == ingest.SpanId);
        Assert.Contains(spans, s => s.Service == "localapi" && s.Name == "db.upsert projections" && s.ParentSpanId == ingest.SpanId);
        Assert.Equal(rig.Site, ingest.Resource["wafer.site"]);
        Assert.True(ingest.Resource.ContainsKey("deployment.environment"));
        Assert.True(ingest.Resource.ContainsKey("service.version"));
        // The receive span (ASP.NET Core's) links to the job as well.
        Assert.Contains(spans, s => s.Service == "sidecar" && s.Scope == "Microsoft.AspNetCore" && Linked(s));
    }
}
