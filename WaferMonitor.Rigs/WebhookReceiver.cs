using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Rigs;

/// <summary>One alert of an Alertmanager webhook notification: its status and labels.</summary>
public sealed record NotifiedAlert(string Status, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations);

/// <summary>What an on-call or MES system would be: an HTTP endpoint on loopback that Alertmanager posts notifications to.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<JsonElement> payloads = new();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public Uri Url => new(app.Urls.Single() + "/hook");

    public IReadOnlyList<JsonElement> Payloads => [.. payloads];

    public IReadOnlyList<NotifiedAlert> Alerts => [.. payloads.SelectMany(p => p.GetProperty("alerts").EnumerateArray()).Select(a => new NotifiedAlert(
        a.GetProperty("status").GetString()!,
        a.GetProperty("labels").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
        a.GetProperty("annotations").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!)))];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            receiver.payloads.Enqueue(await JsonSerializer.DeserializeAsync<JsonElement>(request.Body));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
