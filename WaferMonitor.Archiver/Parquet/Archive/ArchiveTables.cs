namespace WaferMonitor.Archiver.Parquet.Archive;

/// <summary>
/// The archive's tables, each declared once: column names (snake_case, as in the database and the wire contract),
/// types, nullability, and the mapping from and to the row records.
/// </summary>
public static class ArchiveTables
{
    // Events are archived by ingest window (immutable once closed), so ingested_at is the time column.
    public static ArchiveTable<ArchivedEvent> Event { get; } = new ArchiveTableBuilder<ArchivedEvent>("event")
        .Int64("seq", e => e.Seq)
        .Timestamp("ingested_at", e => e.IngestedAt)
        .String("idempotency_key", e => e.IdempotencyKey)
        .String("site_id", e => e.SiteId)
        .Uuid("app_id", e => e.AppId)
        .String("app_name", e => e.AppName)
        .String("app_version", e => e.AppVersion)
        .String("entity_type", e => e.EntityType)
        .Uuid("entity_id", e => e.EntityId)
        .NullableUuid("parent_id", e => e.ParentId)
        .NullableString("business_key", e => e.BusinessKey)
        .NullableString("sub_key", e => e.SubKey)
        .String("kind", e => e.Kind)
        .Timestamp("at", e => e.At)
        .NullableString("status", e => e.Status)
        .NullableJson("metrics", e => e.Metrics)
        .NullableJson("metadata", e => e.Metadata)
        .Build("ingested_at", r => new ArchivedEvent(
            r.Int64("seq"),
            r.Timestamp("ingested_at"),
            r.String("idempotency_key"),
            r.String("site_id"),
            r.Uuid("app_id"),
            r.String("app_name"),
            r.String("app_version"),
            r.String("entity_type"),
            r.Uuid("entity_id"),
            r.NullableUuid("parent_id"),
            r.NullableString("business_key"),
            r.NullableString("sub_key"),
            r.String("kind"),
            r.Timestamp("at"),
            r.NullableString("status"),
            r.NullableJson("metrics"),
            r.NullableJson("metadata")));

    public static ArchiveTable<ArchivedJob> Job { get; } = new ArchiveTableBuilder<ArchivedJob>("job")
        .Uuid("job_id", j => j.JobId)
        .String("site_id", j => j.SiteId)
        .Uuid("app_id", j => j.AppId)
        .String("app_name", j => j.AppName)
        .String("app_version", j => j.AppVersion)
        .NullableString("job_key", j => j.JobKey)
        .String("status", j => j.Status)
        .Timestamp("started_at", j => j.StartedAt)
        .NullableTimestamp("ended_at", j => j.EndedAt)
        .NullableDouble("duration_s", j => j.DurationS)
        .NullableDouble("cpu_user_s", j => j.CpuUserS)
        .NullableDouble("cpu_system_s", j => j.CpuSystemS)
        .NullableDouble("mem_max_mb", j => j.MemMaxMb)
        .NullableJson("metadata", j => j.Metadata)
        .Timestamp("last_event_at", j => j.LastEventAt)
        .Timestamp("snapshot_at", j => j.SnapshotAt)
        .Build("started_at", r => new ArchivedJob(
            r.Uuid("job_id"),
            r.String("site_id"),
            r.Uuid("app_id"),
            r.String("app_name"),
            r.String("app_version"),
            r.NullableString("job_key"),
            r.String("status"),
            r.Timestamp("started_at"),
            r.NullableTimestamp("ended_at"),
            r.NullableDouble("duration_s"),
            r.NullableDouble("cpu_user_s"),
            r.NullableDouble("cpu_system_s"),
            r.NullableDouble("mem_max_mb"),
            r.NullableJson("metadata"),
            r.Timestamp("last_event_at"),
            r.Timestamp("snapshot_at")));

    public static ArchiveTable<ArchivedSubjob> Subjob { get; } = new ArchiveTableBuilder<ArchivedSubjob>("subjob")
        .Uuid("subjob_id", s => s.SubjobId)
        .Uuid("job_id", s => s.JobId)
        .String("site_id", s => s.SiteId)
        .Uuid("app_id", s => s.AppId)
        .String("app_name", s => s.AppName)
        .NullableString("sub_key", s => s.SubKey)
        .String("status", s => s.Status)
        .Timestamp("started_at", s => s.StartedAt)
        .NullableTimestamp("ended_at", s => s.EndedAt)
        .NullableDouble("duration_s", s => s.DurationS)
        .NullableDouble("cpu_user_s", s => s.CpuUserS)
        .NullableDouble("cpu_system_s", s => s.CpuSystemS)
        .NullableDouble("mem_max_mb", s => s.MemMaxMb)
        .NullableJson("metadata", s => s.Metadata)
        .Timestamp("last_event_at", s => s.LastEventAt)
        .Timestamp("snapshot_at", s => s.SnapshotAt)
        .Build("started_at", r => new ArchivedSubjob(
            r.Uuid("subjob_id"),
            r.Uuid("job_id"),
            r.String("site_id"),
            r.Uuid("app_id"),
            r.String("app_name"),
            r.NullableString("sub_key"),
            r.String("status"),
            r.Timestamp("started_at"),
            r.NullableTimestamp("ended_at"),
            r.NullableDouble("duration_s"),
            r.NullableDouble("cpu_user_s"),
            r.NullableDouble("cpu_system_s"),
            r.NullableDouble("mem_max_mb"),
            r.NullableJson("metadata"),
            r.Timestamp("last_event_at"),
            r.Timestamp("snapshot_at")));
}
