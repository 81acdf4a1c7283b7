using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace WaferMonitor.Tests.Observability;

public sealed record ReceivedLink(string TraceId, string SpanId);

public sealed record ReceivedSpan(
    IReadOnlyDictionary<string, string> Resource, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId,
    IReadOnlyList<ReceivedLink> Links)
{
    public string Service => Resource.GetValueOrDefault("service.name", "");
}

/// <summary>
/// An OTLP/HTTP protobuf backend on loopback — the part of a collector the services talk to. Trace requests are decoded
/// by field number (the OTLP .proto files and Grpc.Tools are not obtainable); metrics and logs are accepted and dropped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();

    private OtlpReceiver(WebApplication app) => this.app = app;

    public string Endpoint => app.Urls.Single();

    public IReadOnlyList<ReceivedSpan> Spans => [.. spans];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in Decode(ByteString.CopyFrom(body.ToArray())))
                receiver.spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>ExportTraceServiceRequest → ResourceSpans(1) → Resource(1), ScopeSpans(2) → Scope(1), Span(2).</summary>
    private static IEnumerable<ReceivedSpan> Decode(ByteString request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            var resource = Fields(resourceSpans, 1).SelectMany(r => Fields(r, 1)).Select(Attribute)
                .GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value);
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                var scope = Fields(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Fields(scopeSpans, 2))
                {
                    var links = Fields(span, 13).Select(l => new ReceivedLink(Hex(l, 1), Hex(l, 2))).ToList();
                    yield return new ReceivedSpan(resource, scope, Text(span, 5), Hex(span, 1), Hex(span, 2), Hex(span, 4), links);
                }
            }
        }
    }

    /// <summary>KeyValue: key(1), AnyValue(2) whose string_value is field 1.</summary>
    private static KeyValuePair<string, string> Attribute(ByteString keyValue) =>
        new(Text(keyValue, 1), Fields(keyValue, 2).Select(v => Text(v, 1)).FirstOrDefault() ?? "");

    private static string Text(ByteString message, int field) => Fields(message, field).LastOrDefault()?.ToStringUtf8() ?? "";

    private static string Hex(ByteString message, int field) =>
        Convert.ToHexStringLower(Fields(message, field).LastOrDefault()?.ToByteArray() ?? []);

    /// <summary>The length-delimited occurrences of <paramref name="field"/>; every other field is skipped.</summary>
    private static List<ByteString> Fields(ByteString message, int field)
    {
        var found = new List<ByteString>();
        var input = message.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes());
            else
                input.SkipLastField();
        }
        return found;
    }
}
