using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Benchmarks;

/// <summary>How a client makes idempotency keys and entity ids.</summary>
internal enum IdLayout
{
    /// <summary>Random UUIDs (v4), as the v2 Python SDK makes them.</summary>
    Random,

    /// <summary>Time-ordered UUIDs (v7) from the event's time, as the WaferMonitor SDK and CLI make them.</summary>
    TimeOrdered,
}

/// <summary>
/// Realistic v2 events: lots of 25 wafers — job started, per wafer started and finished (with metrics), job finished —
/// 52 events per lot, pre-serialised so serialisation is not part of the measurement. With <c>failEvery</c>, every that
/// many wafers end in an <c>error</c> event whose message holds the numbers and ids error fingerprinting takes out.
/// </summary>
internal static class EventGenerator
{
    private static readonly AppRef App = new(Guid.Parse("6a3f0e1c-2b4d-4e8f-9a1b-3c5d7e9f1a2b"), "bench-litho", "1.0.0");

    /// <summary>
    /// A millisecond after the previous event, but never ahead of the clock: a sustained load uses up an hour of
    /// milliseconds in minutes, and LocalApi rejects events more than <c>Ingest:MaxFutureSkew</c> ahead.
    /// </summary>
    private static DateTimeOffset Next(DateTimeOffset previous)
    {
        var next = previous.AddMilliseconds(1);
        var now = DateTimeOffset.UtcNow;
        return next < now ? next : now;
    }

    public static IEnumerable<WireEvent> Lots(string site, int events, int failEvery = 0, IdLayout ids = IdLayout.Random)
    {
        var produced = 0;
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        Guid NewId() => ids == IdLayout.TimeOrdered ? Guid.CreateVersion7(at) : Guid.NewGuid();
        for (var lot = 0; produced < events; lot++)
        {
            var jobId = NewId();
            var lotKey = $"lot-{lot:D7}";
            WireEvent Job(string kind, string? status, IReadOnlyDictionary<string, double>? metrics) => new(
                NewId().ToString(), site, App, new EntityRef(EntityTypes.Job, jobId, null, lotKey, null),
                new EventBody(kind, at = Next(at), status, metrics,
                    kind == EventKinds.Started ? JsonSerializer.SerializeToElement(new { recipe = "R-12", tool = "litho-07" }) : null));
            yield return Job(EventKinds.Started, EntityStatuses.Running, null);
            if (++produced >= events)
                yield break;
            for (var wafer = 1; wafer <= 25; wafer++)
            {
                var subjobId = NewId();
                var fails = failEvery > 0 && wafer % failEvery == 0;
                foreach (var kind in new[] { EventKinds.Started, fails ? EventKinds.Error : EventKinds.Finished })
                {
                    var finished = kind != EventKinds.Started;
                    yield return new WireEvent(NewId().ToString(), site, App,
                        new EntityRef(EntityTypes.Subjob, subjobId, jobId, null, $"wafer-{wafer:D2}"),
                        new EventBody(kind, at = Next(at),
                            fails ? EntityStatuses.Failed : finished ? EntityStatuses.Succeeded : EntityStatuses.Running,
                            finished ? new Dictionary<string, double> { ["duration_s"] = 3.2, ["cpu_user_s"] = 1.1, ["cpu_system_s"] = 0.1, ["mem_max_mb"] = 512 } : null,
                            fails ? Failure(lotKey, wafer, subjobId) : null));
                    if (++produced >= events)
                        yield break;
                }
            }
            yield return Job(EventKinds.Finished, EntityStatuses.Succeeded, new Dictionary<string, double> { ["duration_s"] = 80, ["mem_max_mb"] = 640 });
            produced++;
        }
    }

    /// <summary>A failing wafer's metadata: a few error types, messages with a lot, a wafer, a reading and an id in them.</summary>
    private static JsonElement Failure(string lotKey, int wafer, Guid subjobId) => JsonSerializer.SerializeToElement(new Dictionary<string, string>
    {
        ["error_type"] = (wafer / 5 % 3) switch { 0 => "ChamberPressureError", 1 => "RecipeTimeout", _ => "HandlerFault" },
        ["error"] = $"chamber pressure {12.5 + wafer * 0.01:0.00} Torr out of range on wafer-{wafer:D2} of {lotKey} (step 7, run {subjobId}) at /recipes/R-12/step-7",
    });

    /// <summary>JSON array bodies of <paramref name="batchSize"/> events each.</summary>
    public static List<byte[]> Batches(string site, int events, int batchSize) =>
        Lots(site, events).Chunk(batchSize).Select(chunk => JsonSerializer.SerializeToUtf8Bytes(chunk, WireJson.Options)).ToList();

    /// <summary>
    /// Batches from <paramref name="producers"/> independent producers (as from that many business nodes): lots are dealt
    /// to producers in turn, each producer's events are cut into batches, and the batches are interleaved, so batches
    /// posted side by side carry different jobs — as concurrent batches from different nodes do — instead of the two
    /// halves of one lot.
    /// </summary>
    public static List<byte[]> Batches(string site, int events, int batchSize, int producers, int failEvery = 0, IdLayout ids = IdLayout.Random)
    {
        var streams = Enumerable.Range(0, producers).Select(_ => new List<WireEvent>()).ToArray();
        var lot = 0;
        Guid? current = null;
        foreach (var e in Lots(site, events, failEvery, ids))
        {
            var jobId = e.Entity.ParentId ?? e.Entity.Id;
            if (current is not null && jobId != current)
                lot++;
            current = jobId;
            streams[lot % producers].Add(e);
        }
        var batches = streams.Select(stream => stream.Chunk(batchSize).ToList()).ToArray();
        return Enumerable.Range(0, batches.Max(b => b.Count))
            .SelectMany(i => batches.Where(b => i < b.Count).Select(b => b[i]))
            .Select(chunk => JsonSerializer.SerializeToUtf8Bytes(chunk, WireJson.Options))
            .ToList();
    }

    public static List<byte[]> Singles(string site, int events) =>
        Lots(site, events).Select(e => JsonSerializer.SerializeToUtf8Bytes(e, WireJson.Options)).ToList();

}
