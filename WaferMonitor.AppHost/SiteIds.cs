using System.Text.RegularExpressions;

namespace WaferMonitor.AppHost;

internal static partial class SiteIds
{
    public static bool IsValid(string site) => Pattern().IsMatch(site);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();
}
