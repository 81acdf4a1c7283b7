namespace WaferMonitor.Archiver.Parquet.Archive;

/// <summary>One stored event as the archive keeps it: the wire event flattened, plus the server-assigned seq and ingest time.</summary>
public sealed record ArchivedEvent(
    long Seq,
    DateTimeOffset IngestedAt,
    string IdempotencyKey,
    string SiteId,
    Guid AppId,
    string AppName,
    string AppVersion,
    string EntityType,
    Guid EntityId,
    Guid? ParentId,
    string? BusinessKey,
    string? SubKey,
    string Kind,
    DateTimeOffset At,
    string? Status,
    string? Metrics,
    string? Metadata);

/// <summary>A job row as projected at snapshot time.</summary>
public sealed record ArchivedJob(
    Guid JobId,
    string SiteId,
    Guid AppId,
    string AppName,
    string AppVersion,
    string? JobKey,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    double? DurationS,
    double? CpuUserS,
    double? CpuSystemS,
    double? MemMaxMb,
    string? Metadata,
    DateTimeOffset LastEventAt,
    DateTimeOffset SnapshotAt);

/// <summary>A subjob row as projected at snapshot time.</summary>
public sealed record ArchivedSubjob(
    Guid SubjobId,
    Guid JobId,
    string SiteId,
    Guid AppId,
    string AppName,
    string? SubKey,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    double? DurationS,
    double? CpuUserS,
    double? CpuSystemS,
    double? MemMaxMb,
    string? Metadata,
    DateTimeOffset LastEventAt,
    DateTimeOffset SnapshotAt);
