using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Tests.Integrations;

public sealed record ReceivedRequest(string Method, string Path, string ContentType, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// Stands in for what the fab points an integration at — a webhook receiver, an Elasticsearch/OpenSearch <c>_bulk</c>
/// endpoint, Loki's push API: a real Kestrel server on 127.0.0.1 that records every request and answers as those do.
/// It can be taken down (the port refuses connections) and brought back on the same port.
/// </summary>
public sealed class HttpSinkReceiver : IAsyncDisposable
{
    private readonly Lock gate = new();
    private readonly List<ReceivedRequest> requests = [];
    private WebApplication? app;

    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (gate)
                return [.. requests];
        }
    }

    public static async Task<HttpSinkReceiver> StartAsync()
    {
        var receiver = new HttpSinkReceiver();
        await receiver.UpAsync();
        return receiver;
    }

    /// <summary>Listens again, on the same port once it has one.</summary>
    public async Task UpAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        builder.Logging.ClearProviders();
        app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.Single()).Port;
    }

    /// <summary>Stops listening: connections are refused until <see cref="UpAsync"/>.</summary>
    public async Task DownAsync()
    {
        if (app is null)
            return;
        await app.StopAsync();
        await app.DisposeAsync();
        app = null;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var request = new ReceivedRequest(context.Request.Method, context.Request.Path, context.Request.ContentType ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body);
        lock (gate)
            requests.Add(request);
        if (context.Request.Path == "/_bulk")
        {
            // Elasticsearch's answer: one item per action line, all created.
            var items = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where((_, i) => i % 2 == 0)
                .Select(action => System.Text.Json.JsonDocument.Parse(action).RootElement.GetProperty("index"))
                .Select(index => $$$"""{"index":{"_index":"{{{index.GetProperty("_index").GetString()}}}","_id":"{{{index.GetProperty("_id").GetString()}}}","status":201,"result":"created"}}""");
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"took":1,"errors":false,"items":[{{string.Join(',', items)}}]}""");
            return;
        }
        // Loki answers its push with 204; a webhook receiver with anything 2xx.
        context.Response.StatusCode = context.Request.Path == "/loki/api/v1/push" ? StatusCodes.Status204NoContent : StatusCodes.Status200OK;
    }

    public async ValueTask DisposeAsync() => await DownAsync();
}
