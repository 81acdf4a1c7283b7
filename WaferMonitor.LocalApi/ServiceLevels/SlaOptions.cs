using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.LocalApi.ServiceLevels;

/// <summary>
/// LocalApi's objectives: its requests' (ingest and queries) and its availability. Request and check history is kept a
/// day longer than <see cref="RequestObjectives.Window"/>.
/// </summary>
public sealed class SlaOptions : RequestObjectives
{
    /// <summary>Share of the time that must be in check intervals whose synthetic check passed with LocalApi healthy (<see cref="AvailabilityWindows"/>).</summary>
    [Range(0.5, 0.99999)]
    public double Availability { get; set; } = 0.995;
}
