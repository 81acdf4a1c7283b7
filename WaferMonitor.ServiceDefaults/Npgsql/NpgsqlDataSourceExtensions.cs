using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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

    public static IHostApplicationBuilder AddSiteDatabase(
        this IHostApplicationBuilder builder, string connectionName, Action<NpgsqlConnectionStringBuilder>? tune = null)
    {
        var key = $"ConnectionStrings:{connectionName}";
        // Checked before the host starts, so a missing or malformed value stops the service with one line naming the key
        // rather than with Aspire's exception at the data source's first use.
        builder.Services.AddOptions<ConnectionStringSetting>(connectionName)
            .Configure(setting => setting.Value = builder.Configuration.GetConnectionString(connectionName))
            .Validate(setting => !string.IsNullOrWhiteSpace(setting.Value), $"{key} is required: the connection string of the site database")
            .Validate(setting => string.IsNullOrWhiteSpace(setting.Value) || IsConnectionString(setting.Value), $"{key} is not a valid connection string")
            .ValidateOnStart();
        builder.AddNpgsqlDataSource(connectionName,
            settings => settings.DisableHealthChecks = true,
            dataSource =>
            {
                tune?.Invoke(dataSource.ConnectionStringBuilder);
                dataSource.ConfigureTracing(tracing => tracing.ConfigureCommandFilter(command => command.CommandText != HealthQuery));
            });
        builder.Services.AddHealthChecks().AddNpgSql(
            services => services.GetRequiredService<NpgsqlDataSource>(), HealthQuery, name: "database", timeout: TimeSpan.FromSeconds(3));
        return builder;
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
