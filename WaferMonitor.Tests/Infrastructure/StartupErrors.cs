namespace WaferMonitor.Tests.Infrastructure;

/// <summary>Runs a service with settings it must refuse, as a user would start it.</summary>
public static class StartupErrors
{
    /// <summary>
    /// Starts <c>WaferMonitor.&lt;service&gt;</c> with <paramref name="settings"/> (environment variables, e.g.
    /// <c>LocalApi__SiteId=fab1</c>, separated by <c>|</c>) and answers the one line it stopped with, after checking it
    /// exited with code 2 and wrote nothing to standard output.
    /// </summary>
    public static async Task<string> OneLineAsync(string service, string settings)
    {
        var info = BuiltAssembly.StartInfo($"WaferMonitor.{service}", $"WaferMonitor.{service}", []);
        info.WorkingDirectory = Path.GetTempPath();
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var setting in settings.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = setting.IndexOf('=', StringComparison.Ordinal);
            info.Environment[setting[..separator]] = setting[(separator + 1)..];
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }

        Assert.Equal(2, process.ExitCode);
        Assert.Empty(await stdout);
        return Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
