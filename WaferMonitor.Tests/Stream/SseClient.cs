using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Streaming;

/// <summary>One Server-Sent Events message: a comment (heartbeat) or an event with id, type and data.</summary>
public sealed record SseMessage(string? Id, string? Event, string? Data, string? Comment)
{
    public long Seq => long.Parse(Id!, CultureInfo.InvariantCulture);

    public JsonElement Json => JsonDocument.Parse(Data!).RootElement;

    public string IdempotencyKey => Json.GetProperty("event").GetProperty("idempotency_key").GetString()!;

    public string? EntityStatus => Json.GetProperty("entity_status").GetString();
}

/// <summary>A streaming client of <c>GET /v1/stream</c> that parses messages in the background.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly HttpResponseMessage response;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<SseMessage> messages = Channel.CreateUnbounded<SseMessage>();
    private readonly Task reading;

    private SseClient(HttpClient http, HttpResponseMessage response)
    {
        this.http = http;
        this.response = response;
        reading = ReadAsync();
    }

    /// <param name="token">A read token of the LocalApi, sent as <c>Authorization: Bearer</c>.</param>
    public static async Task<SseClient> ConnectAsync(Uri baseAddress, string token, string query = "", string? lastEventId = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/stream" + query);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
            request.Headers.Add("Last-Event-ID", lastEventId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseClient(http, response);
    }

    /// <summary>The next message, or null when the server closed the stream.</summary>
    public async Task<SseMessage?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            return await messages.Reader.WaitToReadAsync(cts.Token) && messages.Reader.TryRead(out var message) ? message : null;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("timed out waiting for a stream message");
            throw;
        }
    }

    /// <summary>The next <paramref name="count"/> event messages (heartbeats skipped).</summary>
    public async Task<List<SseMessage>> EventsAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var events = new List<SseMessage>();
        while (events.Count < count)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
                Assert.Fail($"timed out after {events.Count} of {count} stream events");
            var message = await NextAsync(remaining) ?? throw new InvalidOperationException($"stream closed after {events.Count} of {count} events");
            if (message.Data is not null)
                events.Add(message);
        }
        return events;
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(stop.Token);
            using var reader = new StreamReader(body);
            string? id = null, type = null, data = null, comment = null;
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (id is not null || type is not null || data is not null || comment is not null)
                        messages.Writer.TryWrite(new SseMessage(id, type, data, comment));
                    id = type = data = comment = null;
                }
                else if (line.StartsWith(':'))
                {
                    comment = line[1..].Trim();
                }
                else
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    var field = colon < 0 ? line : line[..colon];
                    var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                    switch (field)
                    {
                        case "id": id = value; break;
                        case "event": type = value; break;
                        case "data": data = data is null ? value : data + "\n" + value; break;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        finally
        {
            messages.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        response.Dispose();
        await reading;
        http.Dispose();
        stop.Dispose();
    }
}

/// <summary>Shared helpers of the stream tests.</summary>
public static class StreamTestKit
{
    public static AppRef UniqueApp() => new(Guid.NewGuid(), "stream-test-" + Guid.NewGuid().ToString("N")[..8], "1.0.0");

    public static WireEvent For(this WireEvent e, AppRef app) => e with { App = app };

    public static string Padded(int bytes) => new('x', bytes);

    /// <summary>The seqs the database holds for these idempotency keys, in seq order.</summary>
    public static async Task<List<(long Seq, string Key)>> StoredAsync(string connectionString, IEnumerable<string> keys)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT seq, idempotency_key FROM event WHERE idempotency_key = ANY(@keys) ORDER BY seq", connection);
        command.Parameters.AddWithValue("keys", keys.ToArray());
        var rows = new List<(long, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>The sum of a metric's samples whose labels contain <paramref name="labelFilter"/>.</summary>
    public static async Task<double> MetricAsync(HttpClient client, string name, string labelFilter = "")
    {
        var text = await client.GetStringAsync("/metrics");
        var total = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !(line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
                continue;
            if (labelFilter.Length > 0 && !line.Contains(labelFilter, StringComparison.Ordinal))
                continue;
            total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return total;
    }
}
