using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace WaferMonitor.LocalApi.Integrations.Sinks;

/// <summary>
/// Indexes one document per terminal event through the <c>_bulk</c> API of Elasticsearch or OpenSearch, with the event's
/// idempotency key as <c>_id</c>: a re-sent batch overwrites the same documents instead of adding copies.
/// Spoken over <see cref="HttpClient"/> because the official client (Elastic.Clients.Elasticsearch) refuses servers
/// that are not Elasticsearch (its product check), and OpenSearch must work too.
/// </summary>
internal sealed partial class ElasticsearchBulkSink(ElasticsearchIntegrationOptions options, HttpClient http, ILogger<ElasticsearchBulkSink> logger)
    : IIntegrationSink
{
    public int MaxBatch => int.MaxValue;

    public async Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{options.Url.TrimEnd('/')}/_bulk")
        {
            Content = new StringContent(BulkBody(options.Index, events), Encoding.UTF8, "application/x-ndjson"),
        };
        foreach (var (name, value) in options.Headers)
            request.Headers.TryAddWithoutValidation(name, value);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (!answer.TryGetProperty("errors", out var errors) || !errors.GetBoolean())
            return;
        foreach (var item in answer.GetProperty("items").EnumerateArray())
        {
            var result = item.EnumerateObject().First().Value;
            var status = result.GetProperty("status").GetInt32();
            if (status is 429 or >= 500)
                throw new HttpRequestException($"_bulk item {result.GetProperty("_id")} answered {status}; the batch is sent again");
            if (status >= 300)
            {
                // Refused as data (a mapping conflict): the same document would be refused again.
                LogDocumentRefused(result.GetProperty("_id").GetString() ?? "", status, result.TryGetProperty("error", out var e) ? e.ToString() : "");
            }
        }
    }

    /// <summary>NDJSON: per event an <c>index</c> action line and the document line; the body ends with a newline.</summary>
    public static string BulkBody(string index, IReadOnlyList<IntegrationEvent> events)
    {
        var body = new StringBuilder();
        foreach (var e in events)
        {
            body.Append(JsonSerializer.Serialize(new { index = new { _index = index, _id = e.IdempotencyKey } })).Append('\n');
            body.Append(e.EnvelopeJson(withTimestamp: true)).Append('\n');
        }
        return body.ToString();
    }

    [LoggerMessage(EventName = "bulk_document_refused", Level = LogLevel.Warning,
        Message = "Elasticsearch refused document {id} with {status}: {error}")]
    private partial void LogDocumentRefused(string id, int status, string error);
}
