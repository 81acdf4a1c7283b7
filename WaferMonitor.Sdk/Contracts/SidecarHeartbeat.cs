namespace WaferMonitor.Sdk.Contracts;

/// <summary>
/// What a Sidecar reports to its LocalApi every few seconds (<c>POST /v1/sidecars/heartbeat</c>): who it is and how much
/// its spool holds. LocalApi lists them at <c>GET /v1/sidecars</c> and alerts on a growing spool or a silent Sidecar.
/// </summary>
public sealed record SidecarHeartbeat(
    string Node, string Version, string? Url, long SpoolEvents, long SpoolBytes, double? OldestSpooledAgeS, long DeadLetters);
