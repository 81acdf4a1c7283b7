using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What Aspire.Npgsql's <c>AddNpgsqlDataSource</c> gives a service (that package is not obtainable): an
/// <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:&lt;name&gt;</c> and a database health check.
/// </summary>
public static class NpgsqlDataSourceExtensions
{
    public static IHostApplicationBuilder AddNpgsqlDataSource(
        this IHostApplicationBuilder builder, string connectionName, Action<IServiceProvider, NpgsqlConnectionStringBuilder>? configure = null)
    {
        var key = $"ConnectionStrings:{connectionName}";
        builder.Services.AddOptions<ConnectionStringSetting>(connectionName)
            .Configure(setting => setting.Value = builder.Configuration.GetConnectionString(connectionName))
            .Validate(setting => !string.IsNullOrWhiteSpace(setting.Value), $"{key} is required: the connection string of the site database")
            .Validate(setting => string.IsNullOrWhiteSpace(setting.Value) || IsConnectionString(setting.Value), $"{key} is not a valid connection string")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var connectionString = builder.Configuration.GetConnectionString(connectionName);
            if (string.IsNullOrWhiteSpace(connectionString))
                throw new OptionsValidationException($"ConnectionStrings:{connectionName}", typeof(NpgsqlDataSource),
                    [$"ConnectionStrings:{connectionName} is required: the connection string of the site database"]);
            NpgsqlConnectionStringBuilder settings;
            try
            {
                settings = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException ex)
            {
                throw new OptionsValidationException($"ConnectionStrings:{connectionName}", typeof(NpgsqlDataSource),
                    [$"ConnectionStrings:{connectionName} is not a valid connection string: {ex.Message}"]);
            }
            configure?.Invoke(sp, settings);
            return new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
        });
        builder.Services.AddHealthChecks().AddCheck<NpgsqlHealthCheck>("database");
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

    private sealed class NpgsqlHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(timeout.Token);
                return HealthCheckResult.Healthy("connected");
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"database unreachable: {ex.Message}");
            }
        }
    }
}
