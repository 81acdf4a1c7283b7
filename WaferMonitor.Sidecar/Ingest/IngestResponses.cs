using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sidecar.Ingest;

/// <summary><c>POST /v1/ingest/events</c> → 200: ours (<c>status</c>, <c>idempotency_key</c>) and v2's <c>ok</c>.</summary>
public sealed record SidecarIngestResponse(bool Ok, string Status, string IdempotencyKey);

/// <summary>
/// <c>POST /v1/ingest/events:batch</c> → 200: ours (<see cref="BatchIngestResult"/>'s fields) and v2's <c>ok</c>,
/// <c>forwarded</c>, <c>spooled</c>. v2 tried LocalApi within the request and spooled what failed; this Sidecar spools
/// every valid event and forwards afterwards, so <c>forwarded</c> is 0 and <c>spooled</c> equals <c>accepted</c>.
/// </summary>
public sealed record SidecarBatchIngestResponse(
    bool Ok, int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected, int Forwarded, int Spooled);
