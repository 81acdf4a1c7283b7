using System.Text;

namespace WaferMonitor.LocalApi.Integrations.Sinks;

/// <summary>
/// POSTs each terminal event as one JSON document. The <c>Idempotency-Key</c> header carries the event's idempotency
/// key, so a receiver can drop the re-send of an event whose acknowledgement was lost (a crash between its 2xx and the
/// cursor update).
/// </summary>
internal sealed class WebhookSink(WebhookIntegrationOptions options, HttpClient http) : IIntegrationSink
{
    public const string IdempotencyHeader = "Idempotency-Key";

    // One event per request: each acknowledgement moves the cursor, so a failure re-sends only the event that failed.
    public int MaxBatch => 1;

    public async Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, options.Url)
            {
                Content = new StringContent(e.EnvelopeJson(), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation(IdempotencyHeader, e.IdempotencyKey);
            foreach (var (name, value) in options.Headers)
                request.Headers.TryAddWithoutValidation(name, value);
            using var response = await http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
        }
    }
}
