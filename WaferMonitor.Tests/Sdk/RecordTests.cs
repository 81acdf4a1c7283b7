using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Tests.Sdk;

/// <summary><c>MonitorClient.Record</c>: an event the caller built travels as it was built, through the same queue.</summary>
public sealed class RecordTests
{
    [Fact]
    public async Task A_recorded_event_arrives_exactly_as_built_and_one_after_disposal_is_counted_as_dropped()
    {
        await using var sidecar = await FakeSidecar.StartAsync();
        var client = TestClients.Create(sidecar.Url);
        var jobId = Guid.CreateVersion7();
        var built = new WireEvent(Guid.NewGuid().ToString(), "fab1", TestClients.App,
            new EntityRef(EntityTypes.Job, jobId, BusinessKey: "lot-record"),
            new EventBody(EventKinds.Error, DateTimeOffset.UtcNow, EntityStatuses.Failed,
                new Dictionary<string, double> { [MetricNames.MemMaxMb] = 212.5 },
                JsonSerializer.SerializeToElement(new { exit_code = 3 })));

        client.Record(built);
        Assert.True(await client.FlushAsync());

        var arrived = Assert.Single(sidecar.Accepted);
        Assert.Equal(built.IdempotencyKey, FakeSidecar.Key(arrived));
        Assert.Equal(jobId.ToString(), arrived.EntityId());
        Assert.Equal("error", arrived.Kind());
        Assert.Equal(212.5, arrived.Metrics().GetProperty("mem_max_mb").GetDouble());
        Assert.Equal(3, arrived.Metadata().GetProperty("exit_code").GetInt32());

        await client.DisposeAsync();
        client.Record(built with { IdempotencyKey = Guid.NewGuid().ToString() });
        Assert.Equal(1, client.DroppedEvents);
    }
}
