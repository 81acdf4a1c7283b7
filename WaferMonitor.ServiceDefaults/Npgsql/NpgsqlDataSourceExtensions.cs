using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Aspire.Npgsql;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The site database through Aspire.Npgsql (<see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:&lt;name&gt;</c>,
/// Npgsql tracing and metrics), with the health check under the name users see in <c>/v1/healthz</c>: <c>database</c>.
/// </summary>
public static class NpgsqlDataSourceExtensions
{
    /// <summary>Marked so its spans can be left out: probes produce no traces, their database round trip included.</summary>
    private const string HealthQuery = "SELECT 1 /* health */";

    /// <param name="fallbackConnectionName">used when <c>ConnectionStrings:&lt;connectionName&gt;</c> is not set (one role for everything).</param>
    public static IHostApplicationBuilder AddSiteDatabase(
        this IHostApplicationBuilder builder, string connectionName, Action<NpgsqlConnectionStringBuilder>? tune = null,
        string? fallbackConnectionName = null)
    {
        builder.AddValidatedConnectionString(connectionName, fallbackConnectionName);
        builder.AddNpgsqlDataSource(connectionName, Settings(builder, fallbackConnectionName), dataSource => Configure(dataSource, tune));
        builder.Services.AddHealthChecks().AddNpgSql(
            services => services.GetRequiredService<NpgsqlDataSource>(), HealthQuery, name: "database", timeout: TimeSpan.FromSeconds(3));
        return builder;
    }

    /// <summary>
    /// A further connection to the site database, typically as another role, resolved with
    /// <c>[FromKeyedServices(connectionName)]</c>; the unkeyed one from <see cref="AddSiteDatabase"/> is the one health probes.
    /// </summary>
    public static IHostApplicationBuilder AddKeyedSiteDatabase(
        this IHostApplicationBuilder builder, string connectionName, Action<NpgsqlConnectionStringBuilder>? tune = null,
        string? fallbackConnectionName = null)
    {
        builder.AddValidatedConnectionString(connectionName, fallbackConnectionName);
        builder.AddKeyedNpgsqlDataSource(connectionName, Settings(builder, fallbackConnectionName), dataSource => Configure(dataSource, tune));
        return builder;
    }

    private static Action<NpgsqlSettings> Settings(IHostApplicationBuilder builder, string? fallbackConnectionName) => settings =>
    {
        settings.DisableHealthChecks = true;
        if (fallbackConnectionName is not null)
            settings.ConnectionString ??= builder.Configuration.GetConnectionString(fallbackConnectionName);
    };

    private static void Configure(NpgsqlDataSourceBuilder dataSource, Action<NpgsqlConnectionStringBuilder>? tune)
    {
        tune?.Invoke(dataSource.ConnectionStringBuilder);
        dataSource.ConfigureTracing(tracing => tracing.ConfigureCommandFilter(command => command.CommandText != HealthQuery));
    }

    /// <summary>
    /// Checked before the host starts, so a missing or malformed value stops the service with one line naming the key
    /// rather than with Aspire's exception at the data source's first use. One with a fallback is optional.
    /// </summary>
    private static void AddValidatedConnectionString(this IHostApplicationBuilder builder, string connectionName, string? fallbackConnectionName)
    {
        var key = $"ConnectionStrings:{connectionName}";
        builder.Services.AddOptions<ConnectionStringSetting>(connectionName)
            .Configure(setting => setting.Value = builder.Configuration.GetConnectionString(connectionName))
            .Validate(setting => fallbackConnectionName is not null || !string.IsNullOrWhiteSpace(setting.Value),
                $"{key} is required: the connection string of the site database")
            .Validate(setting => string.IsNullOrWhiteSpace(setting.Value) || IsConnectionString(setting.Value), $"{key} is not a valid connection string")
            .ValidateOnStart();
    }

    private static bool IsConnectionString(string value)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed class ConnectionStringSetting
    {
        public string? Value { get; set; }
    }
}
