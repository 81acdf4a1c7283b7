using System.Text;
using WaferMonitor.Sidecar.Forwarding;
using WaferMonitor.Sidecar.Spool;

namespace WaferMonitor.Tests.Sidecar;

public sealed class ForwardingLanesTests
{
    private static readonly Guid Job = Guid.Parse("5a3c2e1f-7b9d-4c6e-8f0a-2b4d6e8f0a1c");

    /// <summary>An event whose entity comes after a nested object that also has an "entity": only the top level counts.</summary>
    private static byte[] Event(string entity) => Encoding.UTF8.GetBytes(
        "{\"idempotency_key\": \"k\", \"decoy\": {\"entity\": {\"id\": \"" + Guid.NewGuid() + "\"}}, \"entity\": " + entity + ", \"event\": {}}");

    private static SpoolRecord Record(Guid job, int size = 10) =>
        new(DateTimeOffset.UnixEpoch, null, Encoding.UTF8.GetBytes($$"""{"entity": {"type": "job", "id": "{{job}}"}, "pad": "{{new string('x', size)}}"}"""));

    [Fact]
    public void A_job_is_its_own_id_and_a_subjob_goes_with_its_parent_in_any_uuid_form()
    {
        Assert.Equal(Job, ForwardingLanes.JobOf(Event($$"""{"type": "job", "id": "{{Job}}", "parent_id": null}""")));
        Assert.Equal(Job, ForwardingLanes.JobOf(Event($$"""{"type": "subjob", "id": "{{Guid.NewGuid()}}", "parent_id": "{{Job:B}}"}""")));
        Assert.Equal(Job, ForwardingLanes.JobOf(Event($$"""{"parent_id": "{{Job:N}}", "type": "subjob", "id": "{{Guid.NewGuid()}}"}""")));
        Assert.Equal(Guid.Empty, ForwardingLanes.JobOf("not json"u8));
        Assert.Equal(Guid.Empty, ForwardingLanes.JobOf(Event("""{"type": "job", "id": 42}""")));
    }

    [Fact]
    public void Dealing_keeps_spool_order_within_a_lane_and_a_job_on_one_lane()
    {
        var jobs = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        var records = Enumerable.Range(0, 200).Select(i => Record(jobs[i % jobs.Count], i)).ToList();
        var lanes = ForwardingLanes.Deal(records, 4);

        Assert.Equal(4, lanes.Length);
        Assert.Equal(records.Count, lanes.Sum(lane => lane.Count));
        Assert.True(lanes.Count(lane => lane.Count > 0) > 1);
        foreach (var lane in lanes)
            Assert.Equal(lane.OrderBy(records.IndexOf), lane);
        foreach (var job in jobs)
            Assert.Single(lanes, lane => lane.Any(r => ForwardingLanes.JobOf(r.EventJson) == job));
        Assert.Equal(lanes.Select(lane => lane.Count), ForwardingLanes.Deal(records, 4).Select(lane => lane.Count));
    }

    [Fact]
    public void Batches_hold_at_most_the_events_and_bytes_asked_for_and_an_oversize_event_alone()
    {
        var lane = Enumerable.Range(0, 7).Select(_ => Record(Job)).Append(Record(Job, size: 5000)).Append(Record(Job)).ToList();
        var small = lane[0].EventJson.Length;

        Assert.Equal([3, 3, 1, 1, 1], ForwardingLanes.Batches(lane, maxEvents: 3, maxBytes: 1000).Select(b => b.Count));
        Assert.Equal([2, 2, 2, 1, 1, 1], ForwardingLanes.Batches(lane, maxEvents: 10, maxBytes: 2 * small).Select(b => b.Count));
        Assert.Equal(lane, ForwardingLanes.Batches(lane, maxEvents: 3, maxBytes: 1000).SelectMany(b => b));
    }
}
