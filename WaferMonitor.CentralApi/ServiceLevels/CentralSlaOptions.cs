using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.CentralApi.ServiceLevels;

/// <summary>
/// CentralApi's own query requests' objectives; availability is the sites' alone. It keeps one counter slot per minute
/// of <see cref="RequestObjectives.Window"/>, in memory, hence its upper bound.
/// </summary>
public sealed class CentralSlaOptions : RequestObjectives
{
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var problem in base.Validate(validationContext))
            yield return problem;
        if (Window.Value > TimeSpan.FromDays(400))
            yield return new ValidationResult("must be at most 400d", [nameof(Window)]);
    }
}
