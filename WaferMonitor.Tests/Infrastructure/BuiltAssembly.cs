using System.Diagnostics;
using System.Reflection;

namespace WaferMonitor.Tests.Infrastructure;

/// <summary>Starts an executable of this repository from its build output (built with the test project), as a user would.</summary>
public static class BuiltAssembly
{
    /// <param name="projectDirectory">The project's folder under the repository root, e.g. <c>examples/WaferLot</c>.</param>
    public static ProcessStartInfo StartInfo(string projectDirectory, string assemblyName, IEnumerable<string> arguments)
    {
        var configuration = typeof(BuiltAssembly).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var dll = Path.Combine(WaferMonitor.Rigs.RepositoryLayout.Root, projectDirectory, "bin", configuration, "net10.0", assemblyName + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; it is built with the test project");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        return info;
    }
}
