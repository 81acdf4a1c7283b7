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
    /// <summary>
    /// Nesting a body may have. Deeper than <see cref="StorableJson.MaxDepth"/> rejects only the event that nests so deep;
    /// a body past this is refused whole (parsing it costs memory in proportion to its depth).
    /// </summary>
    public const int MaxBodyDepth = 1000;

    private static readonly JsonDocumentOptions BodyOptions = new() { MaxDepth = MaxBodyDepth };

    public static async Task<IngestRequest> ReadAsync(
        HttpRequest request, IngestLimits limits, string? expectedSite, bool batch, TimeProvider clock, CancellationToken cancellationToken)
    {
        var maxBytes = batch ? limits.MaxBatchBytes : limits.MaxEventBytes;
        if (request.ContentLength > maxBytes)
            return Fail(TooLarge($"request body is {request.ContentLength} bytes; the limit is {maxBytes}"));
        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = await ReadCappedAsync(request.Body, request.ContentLength, maxBytes, cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            // Broken framing (a body shorter than its Content-Length, too slow): Kestrel's own verdict.
            return Fail(TypedResults.Problem(ex.Message, statusCode: ex.StatusCode, title: "Malformed request"));
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Kestrel reports some framing errors so (a chunk size that overflows: "Bad chunk size data"); nothing but the
            // request body is read here, so it is the request's fault.
            return Fail(TypedResults.Problem($"request body could not be read: {ex.Message}",
                statusCode: StatusCodes.Status400BadRequest, title: "Malformed request"));
        }
        try
        {
            if (length > maxBytes)
                return Fail(TooLarge($"request body exceeds the limit of {maxBytes} bytes"));
            return Read(buffer.AsMemory(0, length), limits, expectedSite, batch, clock);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static IngestRequest Read(ReadOnlyMemory<byte> body, IngestLimits limits, string? expectedSite, bool batch, TimeProvider clock)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, BodyOptions);
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

    /// <summary>
    /// Reads the body into a pooled buffer (the caller returns it), sized from Content-Length when there is one: batch
    /// bodies are hundreds of kilobytes, and a freshly grown array per request lands on the large object heap, whose
    /// collections cost more CPU than parsing the body. Stops reading once past <paramref name="maxBytes"/>.
    /// </summary>
    /// <returns>The buffer and the bytes read (more than <paramref name="maxBytes"/> when the body is too large).</returns>
    private static async Task<(byte[] Buffer, int Length)> ReadCappedAsync(
        Stream body, long? contentLength, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min((contentLength ?? 16 * 1024) + 1, maxBytes + 1));
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
                return (buffer, length);
            length += read;
            if (length > maxBytes)
                return (buffer, length);
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
