using Microsoft.Extensions.Diagnostics.HealthChecks;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using WaferMonitor.ServiceDefaults.Errors;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ErrorResponseTests
{
    [Fact]
    public async Task A_database_that_refuses_connections_is_503_not_500()
    {
        // A real connection attempt to a port nothing listens on.
        await using var connection = new NpgsqlConnection("Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
        Assert.Equal(503, ProblemExceptionHandler.Classify(refused).Status);
        Assert.Equal(503, ProblemExceptionHandler.Classify(new InvalidOperationException("wrapped", refused)).Status);
    }

    [Theory]
    [InlineData("57P01")]
    [InlineData("57P03")]
    [InlineData("08006")]
    public void A_database_shutting_down_or_starting_is_503(string sqlState)
    {
        var exception = new PostgresException("server says no", "FATAL", "FATAL", sqlState);
        Assert.Equal(503, ProblemExceptionHandler.Classify(exception).Status);
    }

    [Fact]
    public void Anything_else_is_500_and_bad_framing_keeps_kestrels_status()
    {
        Assert.Equal(500, ProblemExceptionHandler.Classify(new PostgresException("bug", "ERROR", "ERROR", "XX000")).Status);
        Assert.Equal(500, ProblemExceptionHandler.Classify(new NullReferenceException()).Status);
        Assert.Equal(413, ProblemExceptionHandler.Classify(new Microsoft.AspNetCore.Http.BadHttpRequestException("big", 413)).Status);
    }
}

public sealed class BackgroundLoopsTests
{
    [Fact]
    public async Task A_loop_failing_repeatedly_degrades_health_with_its_reason_until_a_round_succeeds()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var loops = new BackgroundLoops(services.GetRequiredService<IMeterFactory>(), TimeProvider.System);
        async Task<HealthCheckResult> Check() => await loops.CheckHealthAsync(new HealthCheckContext());

        loops.Succeeded("stats_rollup");
        for (var i = 1; i < BackgroundLoops.FailuresBeforeDegraded; i++)
            loops.Failed("stats_rollup", new InvalidOperationException("value out of range: overflow"));
        Assert.Equal(HealthStatus.Healthy, (await Check()).Status);

        loops.Failed("stats_rollup", new InvalidOperationException("value out of range: overflow"));
        var failing = await Check();
        Assert.Equal(HealthStatus.Degraded, failing.Status);
        Assert.Contains("stats_rollup failed 3 times in a row", failing.Description);
        Assert.Contains("overflow", failing.Description);

        loops.Succeeded("stats_rollup");
        Assert.Equal(HealthStatus.Healthy, (await Check()).Status);
    }
}
