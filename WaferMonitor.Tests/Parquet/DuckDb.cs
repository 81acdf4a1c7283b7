using System.Diagnostics;
using System.Text.Json;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Runs SQL in DuckDB through tools/duckdb/query.mjs: the independent Parquet reader and writer of these tests.</summary>
internal static class DuckDb
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string ToolDirectory => Path.Combine(RepoRoot, "tools", "duckdb");

    /// <summary>Runs the statements in order in one DuckDB session; returns each statement's rows.</summary>
    public static async Task<JsonElement[][]> QueryAsync(params string[] statements)
    {
        if (!Directory.Exists(Path.Combine(ToolDirectory, "node_modules", "@duckdb", "node-api")))
        {
            Assert.Fail("DuckDB checker is not installed: run `npm ci --prefix tools/duckdb` in the repository root.");
        }
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = ToolDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("query.mjs");
        foreach (var statement in statements)
        {
            start.ArgumentList.Add(statement);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout;
            if (process.ExitCode != 0)
            {
                Assert.Fail($"DuckDB failed (exit {process.ExitCode}): {await stderr}\nSQL: {string.Join(";\n", statements)}");
            }
            using var document = JsonDocument.Parse(output);
            return document.RootElement.EnumerateArray()
                .Select(result => result.EnumerateArray().Select(row => row.Clone()).ToArray())
                .ToArray();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>A path safe to embed in a single-quoted SQL literal.</summary>
    public static string Literal(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WaferMonitor.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No WaferMonitor.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A temporary directory for one test's files, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wm-parquet-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
