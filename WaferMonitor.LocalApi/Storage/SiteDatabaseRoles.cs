namespace WaferMonitor.LocalApi.Storage;

/// <summary>
/// LocalApi's connections to its site database, one per PostgreSQL role (docs/security.md#database-roles), each a
/// connection string that falls back to <c>ConnectionStrings:monitor</c> so that a database used by one role needs one.
/// </summary>
internal static class SiteDatabaseRoles
{
    /// <summary>The owner: migrations, and creating, detaching and dropping partitions (which PostgreSQL leaves to the owner).</summary>
    public const string Owner = "monitor";

    /// <summary>Writes events, their keys and projections, and the service's own bookkeeping (alerts, rollups, cursors); deletes no event.</summary>
    public const string Ingest = "monitor-ingest";

    /// <summary>Reads only: every query endpoint, the stream and health. The unkeyed <see cref="Npgsql.NpgsqlDataSource"/>.</summary>
    public const string Query = "monitor-query";

    /// <summary>Deletes what has expired: keys, settled jobs and subjobs, error occurrences.</summary>
    public const string Retention = "monitor-retention";

    public static WebApplicationBuilder AddSiteDatabases(this WebApplicationBuilder builder)
    {
        // Read when the data sources are first built, after start-up validation has checked the same section.
        var poolSize = builder.Configuration.GetSection(LocalApiOptions.SectionName).Get<LocalApiOptions>()?.MaxPoolSize ?? new LocalApiOptions().MaxPoolSize;
        builder.AddKeyedSiteDatabase(Owner, settings => Tune(settings, 2));
        builder.AddKeyedSiteDatabase(Ingest, settings => Tune(settings, poolSize), Owner);
        builder.AddSiteDatabase(Query, settings => Tune(settings, poolSize), Owner);
        builder.AddKeyedSiteDatabase(Retention, settings => Tune(settings, 2), Owner);
        return builder;
    }

    private static void Tune(Npgsql.NpgsqlConnectionStringBuilder settings, int maxPoolSize)
    {
        settings.MaxPoolSize = maxPoolSize;
        // Every LocalApi statement is meant to run in milliseconds, and both of these cost tens of them: JIT compiles
        // any statement whose estimated cost passes jit_above_cost (a generic plan over the job table easily does),
        // and a parallel plan starts worker processes (the stats rollup sums looked big enough to the planner).
        settings.Options = $"{settings.Options} -c jit=off -c max_parallel_workers_per_gather=0".Trim();
    }
}
