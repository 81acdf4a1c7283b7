using System.ComponentModel.DataAnnotations;

namespace WaferMonitor.Pages;

/// <summary>Bound from <c>Pages</c>: the operator pages served at <c>/</c>.</summary>
public sealed class PagesOptions : IValidatableObject
{
    public const string SectionName = "Pages";

    /// <summary>IANA time zone the pages show times in (UTC on hover); empty means the server's own zone.</summary>
    public string TimeZone { get; set; } = "";

    /// <summary>The zone the pages use: <see cref="TimeZone"/>, or the server's local zone when it is empty.</summary>
    public string EffectiveTimeZone => TimeZone is "" ? TimeZoneInfo.Local.Id : TimeZone;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TimeZone is not "" && (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) || !zone.HasIanaId))
            yield return new ValidationResult($"'{TimeZone}' is not an IANA time zone id on this machine (for example Europe/Berlin)", [nameof(TimeZone)]);
    }
}
