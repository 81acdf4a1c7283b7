using System.Reflection;

namespace WaferMonitor.ServiceDefaults.Configuration;

/// <summary>Who is speaking: stamped on every log line, health answer and telemetry resource.</summary>
public sealed class ServiceIdentity
{
    public string Name { get; set; } = "wafermonitor";
    public string Version { get; set; } = "0.0.0";
    public string? Site { get; set; }
    public string Environment { get; set; } = "local";

    internal static string VersionOf(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
    }
}
