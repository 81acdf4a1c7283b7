using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WaferMonitor.LocalApi.Integrations.Sinks;

/// <summary>
/// Pushes one log line per terminal event (the event's JSON envelope) to Loki's <c>/loki/api/v1/push</c>, in streams
/// labelled by site, app, entity type and status, stamped with the event's time. Loki drops an entry identical to one it
/// holds (same stream, timestamp and line), so a re-sent batch adds nothing.
/// </summary>
internal sealed class LokiPushSink(LokiIntegrationOptions options, HttpClient http) : IIntegrationSink
{
    public int MaxBatch => int.MaxValue;

    public async Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{options.Url.TrimEnd('/')}/loki/api/v1/push")
        {
            Content = new StringContent(PushBody(events), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in options.Headers)
            request.Headers.TryAddWithoutValidation(name, value);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public static string PushBody(IReadOnlyList<IntegrationEvent> events)
    {
        var streams = events
            .GroupBy(e => (e.Event.SiteId, App: e.Event.App.Name, e.Event.Entity.Type, e.Status))
            .Select(g => new
            {
                stream = new Dictionary<string, string>
                {
                    ["service_name"] = "wafermonitor",
                    ["site_id"] = g.Key.SiteId,
                    ["app_name"] = g.Key.App,
                    ["entity_type"] = g.Key.Type,
                    ["status"] = g.Key.Status,
                },
                values = g.OrderBy(e => e.Event.Event.At)
                    .Select(e => new[] { UnixNanoseconds(e.Event.Event.At), e.EnvelopeJson() })
                    .ToList(),
            });
        return JsonSerializer.Serialize(new { streams });
    }

    private static string UnixNanoseconds(DateTimeOffset at) =>
        ((at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100).ToString(CultureInfo.InvariantCulture);
}
