using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WaferMonitor.LocalApi.Storage;
using WaferMonitor.ServiceDefaults.Configuration;
using WaferMonitor.ServiceDefaults.Health;

namespace WaferMonitor.Tests.ServiceDefaults;

/// <summary>The <c>/v1/healthz</c> body in each state, with LocalApi's v2 field; the running fab only shows the good one.</summary>
public sealed class HealthzBodyTests
{
    private static async Task<JsonElement> WriteAsync(HealthStatus database)
    {
        await using var services = new ServiceCollection()
            .AddSingleton(Options.Create(new ServiceIdentity { Name = "localapi-fab1", Version = "1.2.3", Site = "fab1" }))
            .AddSingleton<IHealthzFields, DatabasePoolHealthzField>()
            .BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var entries = new Dictionary<string, HealthReportEntry>
        {
            ["self"] = new(HealthStatus.Healthy, "running", TimeSpan.Zero, null, null),
            ["database"] = new(database, database == HealthStatus.Healthy ? "connected" : "database unreachable", TimeSpan.Zero, null, null),
        };
        await HealthzResponseWriter.WriteAsync(context, new HealthReport(entries, TimeSpan.Zero));
        context.Response.Body.Position = 0;
        return JsonDocument.Parse(context.Response.Body).RootElement.Clone();
    }

    [Fact]
    public async Task Healthy_reads_ok_as_in_v2_with_the_pool_connected()
    {
        var body = await WriteAsync(HealthStatus.Healthy);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal("ok", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("connected", body.GetProperty("database_pool").GetString());
        Assert.Equal(("localapi-fab1", "1.2.3", "fab1"),
            (body.GetProperty("service").GetString(), body.GetProperty("version").GetString(), body.GetProperty("site").GetString()));
    }

    [Fact]
    public async Task An_unreachable_database_is_unhealthy_with_the_pool_disconnected()
    {
        var body = await WriteAsync(HealthStatus.Unhealthy);
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        Assert.Equal("unhealthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("database unreachable", body.GetProperty("checks").GetProperty("database").GetProperty("detail").GetString());
        Assert.Equal("disconnected", body.GetProperty("database_pool").GetString());
    }
}
