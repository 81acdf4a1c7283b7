using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Pages;

/// <summary>Lots as a fab app reports them: a job, one subjob per wafer, metrics, and an error on each failed wafer.</summary>
public static class Lots
{
    /// <summary>The events of one lot whose wafers end as <paramref name="waferStatuses"/> (null = still running).</summary>
    public static List<WireEvent> Events(
        Guid jobId, string site, AppRef app, string businessKey, DateTimeOffset start, IReadOnlyList<string?> waferStatuses)
    {
        var events = new List<WireEvent>
        {
            new(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, jobId, null, businessKey, null),
                new EventBody(EventKinds.Started, start, EntityStatuses.Running, null,
                    Infrastructure.Events.ToElement(new { recipe = "ETCH-42", tool = "etch-03" }))),
        };
        var at = start;
        for (var i = 0; i < waferStatuses.Count; i++)
        {
            var waferId = Guid.NewGuid();
            var entity = new EntityRef(EntityTypes.Subjob, waferId, jobId, null, $"wafer-{i + 1:00}");
            var waferStart = at;
            at = at.AddSeconds(20 + i % 7);
            events.Add(new(Guid.NewGuid().ToString(), site, app, entity, new EventBody(EventKinds.Started, waferStart, EntityStatuses.Running)));
            if (waferStatuses[i] is not { } status)
                continue;
            var metrics = new Dictionary<string, double>
            {
                ["cpu_user_s"] = 4 + i % 5, ["cpu_system_s"] = 0.5, ["mem_max_mb"] = 300 + 20 * (i % 9), ["duration_s"] = (at - waferStart).TotalSeconds,
            };
            events.Add(new(Guid.NewGuid().ToString(), site, app, entity, status == EntityStatuses.Failed
                ? new EventBody(EventKinds.Error, at, EntityStatuses.Failed, metrics, Infrastructure.Events.ToElement(new { error = $"chuck vacuum lost on wafer-{i + 1:00}" }))
                : new EventBody(EventKinds.Finished, at, status, metrics)));
        }
        if (waferStatuses.All(s => s is not null))
        {
            var failed = waferStatuses.Count(s => s == EntityStatuses.Failed);
            var metrics = new Dictionary<string, double>
            {
                ["cpu_user_s"] = 5.0 * waferStatuses.Count, ["cpu_system_s"] = 0.5 * waferStatuses.Count, ["mem_max_mb"] = 512,
            };
            events.Add(new(Guid.NewGuid().ToString(), site, app, new EntityRef(EntityTypes.Job, jobId, null, businessKey, null),
                new EventBody(EventKinds.Finished, at.AddSeconds(1), failed > 0 ? EntityStatuses.Failed : EntityStatuses.Succeeded, metrics,
                    failed > 0 ? Infrastructure.Events.ToElement(new { error = $"{failed} wafers failed" }) : null)));
        }
        return events;
    }

    /// <summary>Posts one lot to <paramref name="client"/> (a LocalApi or a Sidecar) and returns the job id.</summary>
    public static async Task<Guid> PostAsync(
        HttpClient client, string site, AppRef app, string businessKey, DateTimeOffset start, IReadOnlyList<string?> waferStatuses)
    {
        var jobId = Guid.NewGuid();
        var events = Events(jobId, site, app, businessKey, start, waferStatuses);
        var result = await Infrastructure.Events.PostBatchAsync(client, events);
        Assert.Equal(events.Count, result.Accepted);
        return jobId;
    }

    /// <summary>A morning of a small fab: a few apps, lots succeeded, failed and running over the last hours.</summary>
    public static async Task SeedShiftAsync(HttpClient localApi, string site, string tag)
    {
        string[] apps = ["litho-expose", "etch-process", "cmp-polish", "metrology-scan"];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 24; i++)
        {
            var app = new AppRef(Guid.NewGuid(), apps[i % apps.Length], "3.2." + (i % 3));
            var statuses = Enumerable.Range(0, 25).Select(w => (string?)(
                i % 6 == 5 && w is 3 or 17 ? EntityStatuses.Failed
                : i % 8 == 7 && w == 24 ? EntityStatuses.Canceled
                : EntityStatuses.Succeeded)).ToList();
            if (i < 2)
                statuses = [.. statuses.Select((s, w) => w < 12 ? s : null)];
            await PostAsync(localApi, site, app, $"{tag}-{i:000}", now.AddMinutes(-10 * (24 - i)).AddSeconds(-20), statuses);
        }
    }
}
