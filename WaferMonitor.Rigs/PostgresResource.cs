using System.Diagnostics;
using Npgsql;

namespace WaferMonitor.Rigs;

/// <summary>
/// A PostgreSQL server: an external one from a connection string, or an embedded one run from the machine's binaries
/// with its data directory kept in the state directory across runs.
/// </summary>
public sealed class PostgresResource : Resource
{
    private readonly string? externalConnectionString;
    private readonly List<DatabaseResource> databases = [];
    private readonly bool throwaway;
    private readonly IReadOnlyList<string> settings;
    private ManagedProcess? process;
    private string? dataDirectory;
    private int port;

    /// <summary>The postmaster's process id; null for an external server.</summary>
    public int? ProcessId => process?.ProcessId;

    internal PostgresResource(string name, string? externalConnectionString, bool throwaway, IReadOnlyList<string> settings) : base(name)
    {
        this.externalConnectionString = externalConnectionString;
        this.throwaway = throwaway;
        this.settings = settings;
    }

    public string ConnectionString { get; private set; } = "";

    public DatabaseResource AddDatabase(string name)
    {
        var database = new DatabaseResource(name, this);
        databases.Add(database);
        return database;
    }

    public IReadOnlyList<DatabaseResource> Databases => databases;

    internal override IEnumerable<KeyValuePair<string, Func<string>>> ReferenceEnvironment(string? connectionName)
    {
        yield return new($"ConnectionStrings__{connectionName ?? Name}", () => ConnectionString);
    }

    internal override async Task StartAsync(HostContext context, CancellationToken cancellationToken)
    {
        if (externalConnectionString is not null)
        {
            ConnectionString = externalConnectionString;
            return;
        }
        var binaries = PostgresBinaries.Find();
        dataDirectory = await PostgresBinaries.DataDirectoryForAsync(Path.Combine(context.StateDirectory, "postgres"));
        await PostgresBinaries.StopStaleServerAsync(dataDirectory);
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            context.Console.Info($"postgres: initialising a new cluster in {dataDirectory}");
            await PostgresBinaries.InitDbAsync(binaries, dataDirectory, cancellationToken);
        }

        port = context.Ports.Next();
        string[] arguments = ["-D", dataDirectory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. PostgresBinaries.ServerSettings(throwaway),
            .. settings.SelectMany(setting => new[] { "-c", setting })];
        var (fileName, args) = PostgresBinaries.AsPostgresUser(Path.Combine(binaries, "postgres"), arguments);
        var spec = new ProcessSpec(fileName, args, dataDirectory, new Dictionary<string, string> { ["LC_ALL"] = "C.UTF-8" });
        // SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
        process = new ManagedProcess(Name, spec, context, state => State = state, Posix.SigInt);
        process.Start();
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    internal override async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString + ";Timeout=2;Pooling=false");
                await connection.OpenAsync(cancellationToken);
                foreach (var database in databases)
                    await database.EnsureCreatedAsync(connection, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    internal override async Task StopAsync()
    {
        if (process is not null)
            await process.StopAsync(TimeSpan.FromSeconds(15));
    }

    internal override EndpointEntry Describe() => new(ConnectionString: ConnectionString);
}

/// <summary>A database on a <see cref="PostgresResource"/>; created when the server is ready.</summary>
public sealed class DatabaseResource : Resource
{
    private readonly PostgresResource server;

    internal DatabaseResource(string name, PostgresResource server) : base(name)
    {
        this.server = server;
        WaitsFor.Add(server);
    }

    public string DatabaseName => Name.Replace('-', '_');

    public string ConnectionString =>
        new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = DatabaseName }.ConnectionString;

    internal async Task EnsureCreatedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", DatabaseName);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    internal override IEnumerable<KeyValuePair<string, Func<string>>> ReferenceEnvironment(string? connectionName)
    {
        yield return new($"ConnectionStrings__{connectionName ?? Name}", () => ConnectionString);
    }

    internal override Task StartAsync(HostContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    internal override Task WaitReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    internal override Task StopAsync() => Task.CompletedTask;
    internal override EndpointEntry Describe() => new(ConnectionString: ConnectionString);
}

/// <summary>Locating, initialising and running the machine's PostgreSQL binaries.</summary>
public static class PostgresBinaries
{
    private const string PostgresUser = "postgres";

    public static string Find()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb")));
        if (onPath is not null)
            return onPath;
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "postgres")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return installed ?? throw new InvalidOperationException(
            "PostgreSQL is not installed: install it (sudo apt-get install -y postgresql) or pass --postgres \"<connection string>\"");
    }

    /// <summary>
    /// The data directory for a state directory. As root the server runs as the postgres user, which cannot enter
    /// directories such as /root (mode 700); the data then lives under /var/tmp, keyed by the state directory.
    /// </summary>
    public static async Task<string> DataDirectoryForAsync(string preferred)
    {
        if (!Posix.IsRoot || ReachableByOthers(preferred))
        {
            Directory.CreateDirectory(preferred);
            await ChownToPostgresAsync(preferred);
            return Path.Combine(preferred, "data");
        }
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(preferred))))[..12];
        var fallback = Path.Combine("/var/tmp", "wafermonitor-postgres-" + key.ToLowerInvariant());
        Directory.CreateDirectory(fallback);
        await ChownToPostgresAsync(fallback);
        Directory.CreateDirectory(preferred);
        await File.WriteAllTextAsync(Path.Combine(preferred, "DATA_LOCATION"), fallback + Environment.NewLine);
        return Path.Combine(fallback, "data");
    }

    public static async Task InitDbAsync(string binaries, string dataDirectory, CancellationToken cancellationToken)
    {
        var (fileName, args) = AsPostgresUser(Path.Combine(binaries, "initdb"),
            ["-D", dataDirectory, "-U", PostgresUser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        await RunToEndAsync(fileName, args, cancellationToken);
    }

    /// <summary>A server left running by an AppHost that was killed still holds the data directory: stop it first.</summary>
    public static async Task StopStaleServerAsync(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
            return;
        var firstLine = (await File.ReadAllLinesAsync(pidFile)).FirstOrDefault();
        if (!int.TryParse(firstLine, out var pid) || !Posix.IsAlive(pid))
            return;
        Posix.Signal(pid, Posix.SigInt);
        for (var i = 0; i < 100 && Posix.IsAlive(pid); i++)
            await Task.Delay(100);
    }

    /// <summary>The server's settings (after <c>-D</c> and <c>-p</c>): loopback TCP only, sized for a site's sustained ingest.</summary>
    public static string[] ServerSettings(bool throwaway) =>
    [
        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300",
        // Sustained ingest writes about 1.5 kB of WAL per event, and after each checkpoint the first write to every index
        // page logs the whole page: at a full-size site's random keys that is most of the key index again each time, so
        // checkpoints are spaced by WAL volume (the default 1 GB gave one every few hundred thousand events) and the
        // page images compressed.
        "-c", "max_wal_size=8GB", "-c", "wal_compression=lz4",
        // The default 128 MB holds the hot tables' indexes only while a site is young. A full-size site's random-key
        // indexes (a week of keys, millions of subjobs) outgrow 1 GB too, and each insert that misses the buffers evicts
        // a page to read one: a quarter of the machine's memory, as PostgreSQL advises, from 1 GB to 8 GB (1 GB for the
        // tests' throwaway databases, which stay small).
        "-c", $"shared_buffers={(throwaway ? 1024 : SharedBuffersMegabytes())}MB",
        .. throwaway ? new[] { "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off" } : [],
    ];

    private static long SharedBuffersMegabytes() =>
        Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 / 1048576, 1024, 8192);

    public static (string FileName, string[] Arguments) AsPostgresUser(string executable, string[] arguments) =>
        Posix.IsRoot
            // setpriv execs in place (no intermediate process), so signals reach PostgreSQL directly.
            ? ("setpriv", ["--reuid=" + PostgresUser, "--regid=" + PostgresUser, "--init-groups", "--", executable, .. arguments])
            : (executable, arguments);

    private static async Task ChownToPostgresAsync(string directory)
    {
        if (Posix.IsRoot)
            await RunToEndAsync("chown", ["-R", $"{PostgresUser}:{PostgresUser}", directory], CancellationToken.None);
    }

    private static bool ReachableByOthers(string directory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(directory)).Parent; dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
                return false;
        }
        return true;
    }

    private static async Task RunToEndAsync(string fileName, string[] arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}{await stdout}");
    }
}
