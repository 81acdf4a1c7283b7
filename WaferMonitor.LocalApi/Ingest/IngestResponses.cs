using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// <c>POST /v1/ingest/events</c> → 200: ours (<c>status</c> accepted or duplicate, <c>idempotency_key</c>) and v2's
/// <c>ok</c> and <c>duration_s</c> (seconds the request took on the server).
/// </summary>
public sealed record LocalIngestResponse(bool Ok, string Status, string IdempotencyKey, double DurationS);

/// <summary>
/// <c>POST /v1/ingest/events:batch</c> → 200: ours (<see cref="BatchIngestResult"/>'s fields) and v2's <c>ok</c>,
/// <c>total</c> (events in the array), <c>success</c> (stored now or before: accepted + duplicates, as v2 counted a
/// duplicate insert) and <c>failed</c> (the rejected ones).
/// </summary>
public sealed record LocalBatchIngestResponse(
    bool Ok, int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected, int Total, int Success, int Failed);
