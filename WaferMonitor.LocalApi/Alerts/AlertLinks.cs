using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>Absolute links into this LocalApi's API for annotations: <c>Alerts:PublicUrl</c>, else its own listening URL.</summary>
internal sealed class AlertLinks(IOptions<AlertsOptions> options, IServer server)
{
    private string Base => (options.Value.PublicUrl
        ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? "http://localhost:18000").TrimEnd('/');

    public string Job(Guid jobId) => $"{Base}/v1/jobs/{jobId}";
    public string Jobs(string app) => $"{Base}/v1/jobs?app_name={Uri.EscapeDataString(app)}";
    public string Sidecars() => $"{Base}/v1/sidecars";
    public string Health() => $"{Base}/v1/healthz";
    public string ErrorGroup(string fingerprint) => $"{Base}/v1/errors/{Uri.EscapeDataString(fingerprint)}";
    public string Alerts(string rule) => $"{Base}/v1/alerts?rule={Uri.EscapeDataString(rule)}";
}
