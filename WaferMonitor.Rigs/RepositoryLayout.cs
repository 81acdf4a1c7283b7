using System.Reflection;

namespace WaferMonitor.Rigs;

public static class RepositoryLayout
{
    /// <summary>The repository root recorded at build time; the default state directory lives there.</summary>
    public static string Root { get; } = typeof(RepositoryLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "RepositoryRoot").Value!;
}
