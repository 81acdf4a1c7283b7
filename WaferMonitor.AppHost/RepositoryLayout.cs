using System.Reflection;
using System.Text.RegularExpressions;

namespace WaferMonitor.AppHost;

internal static class RepositoryLayout
{
    /// <summary>The repository root recorded at build time; the default state directory lives there.</summary>
    public static string Root { get; } = typeof(RepositoryLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "RepositoryRoot").Value!;
}

internal static partial class SiteIds
{
    public static bool IsValid(string site) => Pattern().IsMatch(site);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex Pattern();
}
