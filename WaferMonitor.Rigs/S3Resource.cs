using System.Diagnostics;

namespace WaferMonitor.Rigs;

/// <summary>
/// The archive's S3: an external endpoint (real S3, MinIO) when one is given, else s3rver from npm (installed into
/// <c>tools/s3rver</c> on first use) keeping its objects in <c>&lt;state-dir&gt;/s3</c>, with the bucket created at start.
/// </summary>
public sealed class S3Resource : Resource
{
    /// <summary>s3rver's built-in account.</summary>
    public const string LocalAccessKey = "S3RVER";

    private readonly string? externalEndpoint;
    private ManagedProcess? process;
    private int port;

    internal S3Resource(string name, string bucket, string? externalEndpoint) : base(name)
    {
        Bucket = bucket;
        this.externalEndpoint = externalEndpoint?.TrimEnd('/');
    }

    public string Bucket { get; }

    public bool IsLocal => externalEndpoint is null;

    public string Url => externalEndpoint ?? $"{(tls is null ? "http" : "https")}://127.0.0.1:{port}";

    private (string Certificate, string Key)? tls;

    /// <summary>s3rver serves HTTPS with this PEM certificate and key (a test's site CA), instead of HTTP.</summary>
    public S3Resource WithTls(string certificatePath, string keyPath)
    {
        tls = (certificatePath, keyPath);
        return this;
    }

    /// <summary>Where s3rver keeps the bucket's objects (each as <c>&lt;key&gt;._S3rver_object</c>); null for an external S3.</summary>
    public string? DataDirectory { get; private set; }

    internal override IEnumerable<KeyValuePair<string, Func<string>>> ReferenceEnvironment(string? connectionName)
    {
        yield return new("Archiver__S3__ServiceUrl", () => Url);
        yield return new("Archiver__S3__Bucket", () => Bucket);
        yield return new("Archiver__S3__ForcePathStyle", () => "true");
        if (IsLocal)
        {
            // An external S3 takes its credentials from the standard AWS chain of the environment the AppHost runs in.
            yield return new("Archiver__S3__AccessKey", () => LocalAccessKey);
            yield return new("Archiver__S3__SecretKey", () => LocalAccessKey);
        }
    }

    internal override async Task StartAsync(HostContext context, CancellationToken cancellationToken)
    {
        if (!IsLocal)
            return;
        var tool = Path.Combine(RepositoryLayout.Root, "tools", "s3rver");
        var script = Path.Combine(tool, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
            await InstallAsync(tool, context, cancellationToken);
        DataDirectory = Path.Combine(context.StateDirectory, "s3");
        Directory.CreateDirectory(DataDirectory);
        port = context.Ports.Next();
        var spec = new ProcessSpec("node",
            [script, "--directory", DataDirectory, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--silent", "--configure-bucket", Bucket, .. tls is { } pem ? new[] { "--cert", pem.Certificate, "--key", pem.Key } : []],
            tool, new Dictionary<string, string>());
        process = new ManagedProcess(Name, spec, context, state => State = state, Posix.SigTerm);
        process.Start();
    }

    private static async Task InstallAsync(string tool, HostContext context, CancellationToken cancellationToken)
    {
        context.Console.Info($"s3: installing s3rver into {tool} (first use)");
        var info = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tool };
        foreach (var argument in new[] { "ci", "--prefix", tool, "--no-audit", "--no-fund", "--loglevel=error" })
            info.ArgumentList.Add(argument);
        using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start; install Node.js and npm");
        var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
        await npm.WaitForExitAsync(cancellationToken);
        if (npm.ExitCode != 0)
            throw new InvalidOperationException($"npm ci --prefix {tool} failed ({npm.ExitCode}): {await stderr}{await stdout}");
    }

    /// <summary>Ready once the bucket answers (any HTTP status: an anonymous request may be refused, which still proves it is up).</summary>
    internal override async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        if (!IsLocal)
            return;
        // Readiness only asks whether s3rver answers; whether its certificate is trusted is the Archiver's business.
        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
        {
            Timeout = TimeSpan.FromSeconds(2),
        };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var response = await client.GetAsync($"{Url}/{Bucket}?max-keys=1", cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }

    internal override Task StopAsync() => process?.StopAsync(TimeSpan.FromSeconds(10)) ?? Task.CompletedTask;

    internal override EndpointEntry Describe() => new(Url: Url);
}
