using System.Text.Json;

namespace WaferMonitor.Sdk.Contracts;

/// <summary>One event in the v2-compatible wire format (DESIGN.md §4.1).</summary>
public sealed record WireEvent(
    string IdempotencyKey,
    string SiteId,
    AppRef App,
    EntityRef Entity,
    EventBody Event);

/// <summary>The application that reports jobs.</summary>
public sealed record AppRef(Guid AppId, string Name, string Version);

public sealed record EntityRef(
    string Type,
    Guid Id,
    Guid? ParentId = null,
    string? BusinessKey = null,
    string? SubKey = null);

public sealed record EventBody(
    string Kind,
    DateTimeOffset At,
    string? Status = null,
    IReadOnlyDictionary<string, double>? Metrics = null,
    JsonElement? Metadata = null);

/// <summary>Vocabulary of the wire format; the values are the exact strings v2 sends.</summary>
public static class EntityTypes
{
    public const string Job = "job";
    public const string Subjob = "subjob";
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Job, Subjob };
}

public static class EventKinds
{
    public const string Started = "started";
    public const string Progress = "progress";
    public const string Metric = "metric";
    public const string Finished = "finished";
    public const string Error = "error";
    public const string Canceled = "canceled";
    public static readonly IReadOnlySet<string> All =
        new HashSet<string>(StringComparer.Ordinal) { Started, Progress, Metric, Finished, Error, Canceled };
}

public static class EntityStatuses
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
    public static readonly IReadOnlySet<string> All =
        new HashSet<string>(StringComparer.Ordinal) { Running, Succeeded, Failed, Canceled };
}

/// <summary>Well-known metric names the SDK fills in automatically.</summary>
public static class MetricNames
{
    public const string CpuUserSeconds = "cpu_user_s";
    public const string CpuSystemSeconds = "cpu_system_s";
    public const string MemMaxMb = "mem_max_mb";
    public const string DurationSeconds = "duration_s";
}
