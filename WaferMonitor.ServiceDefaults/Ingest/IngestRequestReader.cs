using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.ServiceDefaults.Ingest;

/// <summary>One valid event of a request, with its position in the batch and its exact bytes as received.</summary>
public sealed record IngestItem(int Index, WireEvent Event, byte[] Raw);

/// <summary>A request body checked against the contract: valid events, per-event rejections, or a whole-body problem.</summary>
public sealed record IngestRequest(
    IReadOnlyList<IngestItem> Items,
    IReadOnlyList<RejectedEvent> Rejected,
    IResult? Problem);

/// <summary>Reads <c>POST /v1/ingest/events[:batch]</c> bodies the same way on the Sidecar and the LocalApi (DESIGN.md §4.2).</summary>
public static class IngestRequestReader
{
    public static async Task<IngestRequest> ReadAsync(
        HttpRequest request, IngestLimits limits, string? expectedSite, bool batch, TimeProvider clock, CancellationToken cancellationToken)
    {
        var maxBytes = batch ? limits.MaxBatchBytes : limits.MaxEventBytes;
        if (request.ContentLength > maxBytes)
            return Fail(TooLarge($"request body is {request.ContentLength} bytes; the limit is {maxBytes}"));
        var body = await ReadCappedAsync(request.Body, maxBytes, cancellationToken);
        if (body is null)
            return Fail(TooLarge($"request body exceeds the limit of {maxBytes} bytes"));

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.WrittenMemory);
        }
        catch (JsonException ex)
        {
            return Fail(BadRequest($"body is not valid JSON: {ex.Message}"));
        }
        using (document)
        {
            var now = clock.GetUtcNow();
            var root = document.RootElement;
            if (!batch)
            {
                var parsed = EventParser.Parse(root, limits, expectedSite, now);
                if (!parsed.IsValid)
                    return Fail(BadRequest(parsed.Error!, parsed.Code));
                return new IngestRequest([Item(0, parsed.Event!, root)], [], null);
            }
            if (root.ValueKind != JsonValueKind.Array)
                return Fail(BadRequest("body must be a JSON array of events"));
            var count = root.GetArrayLength();
            if (count > limits.MaxBatchEvents)
                return Fail(TooLarge($"batch has {count} events; the limit is {limits.MaxBatchEvents}"));
            var items = new List<IngestItem>(count);
            var rejected = new List<RejectedEvent>();
            var index = 0;
            foreach (var element in root.EnumerateArray())
            {
                var parsed = EventParser.Parse(element, limits, expectedSite, now);
                if (parsed.IsValid)
                    items.Add(Item(index, parsed.Event!, element));
                else
                    rejected.Add(new RejectedEvent(index, parsed.Code!, parsed.Error!));
                index++;
            }
            return new IngestRequest(items, rejected, null);
        }
    }

    private static IngestItem Item(int index, WireEvent wireEvent, JsonElement element) =>
        new(index, wireEvent, JsonMarshal.GetRawUtf8Value(element).ToArray());

    private static async Task<ArrayBufferWriter<byte>?> ReadCappedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            var read = await body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken);
            if (read == 0)
                return buffer;
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
                return null;
        }
    }

    private static IngestRequest Fail(IResult problem) => new([], [], problem);

    private static IResult TooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    private static IResult BadRequest(string detail, string? code = null) => TypedResults.Problem(
        detail,
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid event",
        extensions: new Dictionary<string, object?> { ["code"] = code ?? RejectionCodes.Invalid });
}
