using System.ComponentModel.DataAnnotations;

namespace WaferMonitor.Archiver;

/// <summary>Bound from <c>Archiver</c>.</summary>
public sealed class ArchiverOptions
{
    public const string SectionName = "Archiver";

    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a site id such as fab1")]
    public string SiteId { get; set; } = "";
}
