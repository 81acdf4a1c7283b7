using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Tests.Sdk;

/// <summary>
/// Stands in for the sidecar: a real Kestrel server on 127.0.0.1 that records every batch posted to it and answers
/// as it is told (scripted failures, 413 above a batch size, per-event rejections).
/// </summary>
internal sealed class FakeSidecar : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<RecordedBatch> _batches = [];
    private readonly Queue<int> _scriptedFailures = new();
    private int _failAllWith;
    private int _tooLargeAbove = int.MaxValue;
    private Func<JsonElement, bool> _reject = _ => false;
    private bool _answerAsV2;

    private FakeSidecar(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<FakeSidecar> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var sidecar = new FakeSidecar(builder.Build());
        sidecar._app.Run(sidecar.HandleAsync);
        await sidecar._app.StartAsync();
        sidecar.Url = new Uri(sidecar._app.Urls.Single());
        return sidecar;
    }

    /// <summary>Every request body, in arrival order, with the status it got.</summary>
    public IReadOnlyList<RecordedBatch> Batches
    {
        get
        {
            lock (_gate)
                return [.. _batches];
        }
    }

    /// <summary>Events of the requests answered 200 and not rejected: what the real sidecar would keep.</summary>
    public IReadOnlyList<JsonElement> Accepted
    {
        get
        {
            lock (_gate)
                return [.. _batches.Where(b => b.Status == 200).SelectMany(b => b.Events.Where(e => !b.RejectedKeys.Contains(Key(e))))];
        }
    }

    /// <summary>The next requests get these statuses, one each, before normal answers resume.</summary>
    public void FailNext(params int[] statuses)
    {
        lock (_gate)
            foreach (var status in statuses)
                _scriptedFailures.Enqueue(status);
    }

    /// <summary>Every request gets <paramref name="status"/> until called with 0.</summary>
    public void FailAll(int status)
    {
        lock (_gate)
            _failAllWith = status;
    }

    public void TooLargeAbove(int events)
    {
        lock (_gate)
            _tooLargeAbove = events;
    }

    /// <summary>Answers as v2's sidecar did: <c>{"ok": true, "forwarded": n, "spooled": 0}</c>, none of our fields.</summary>
    public void AnswerAsV2()
    {
        lock (_gate)
            _answerAsV2 = true;
    }

    public void Reject(Func<JsonElement, bool> predicate)
    {
        lock (_gate)
            _reject = predicate;
    }

    public async Task WaitForAcceptedAsync(int count) =>
        await Eventually.TrueAsync(() => Accepted.Count >= count, $"{count} accepted events");

    public static string Key(JsonElement e) => e.GetProperty("idempotency_key").GetString()!;

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Method != "POST" || context.Request.Path != "/v1/ingest/events:batch")
        {
            context.Response.StatusCode = 404;
            return;
        }
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var events = document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        int status;
        var rejected = new List<(int Index, string Key)>();
        lock (_gate)
        {
            status = _scriptedFailures.TryDequeue(out var scripted) ? scripted
                : _failAllWith != 0 ? _failAllWith
                : events.Count > _tooLargeAbove ? 413
                : 200;
            if (status == 200)
                for (var i = 0; i < events.Count; i++)
                    if (_reject(events[i]))
                        rejected.Add((i, Key(events[i])));
            _batches.Add(new RecordedBatch(status, events, rejected.Select(r => r.Key).ToHashSet()));
        }
        context.Response.StatusCode = status;
        if (status == 503)
            context.Response.Headers.RetryAfter = "0";
        if (status != 200)
            return;
        bool asV2;
        lock (_gate)
            asV2 = _answerAsV2;
        if (asV2)
        {
            await context.Response.WriteAsJsonAsync(new { ok = true, forwarded = events.Count, spooled = 0 });
            return;
        }
        await context.Response.WriteAsJsonAsync(new
        {
            accepted = events.Count - rejected.Count,
            duplicates = 0,
            rejected = rejected.Select(r => new { index = r.Index, code = "invalid", error = "rejected by test" }),
        });
    }
}

internal sealed record RecordedBatch(int Status, IReadOnlyList<JsonElement> Events, IReadOnlySet<string> RejectedKeys);

internal static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after a generous bound, never on speed.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
