using System.Security.Cryptography;
using System.Text.Json;

namespace WaferMonitor.AppHost.Infrastructure;

/// <summary>
/// The fab's API keys and tokens as secret parameters: per site the Sidecar's ingest key and CentralApi's read token, and
/// one operator token (read and admin) for people and tools. In publish mode they are inputs of the manifest; in run mode
/// they are generated once and kept in <c>&lt;state-dir&gt;/credentials.json</c> (owner-only), so a restarted fab keeps
/// its keys, and FabSupervisor writes them beside each URL in <c>endpoints.json</c>.
/// </summary>
public sealed class FabCredentials
{
    private readonly IDistributedApplicationBuilder builder;
    private readonly Dictionary<string, string> generated;
    private readonly Dictionary<string, IResourceBuilder<ParameterResource>> parameters = new(StringComparer.Ordinal);

    private FabCredentials(IDistributedApplicationBuilder builder, Dictionary<string, string> generated)
    {
        this.builder = builder;
        this.generated = generated;
    }

    public const string OperatorName = "operator";

    public static FabCredentials Add(IDistributedApplicationBuilder builder, FabOptions fab)
    {
        var generated = new Dictionary<string, string>(StringComparer.Ordinal);
        if (builder.ExecutionContext.IsRunMode)
        {
            var names = fab.Sites.SelectMany(site => new[] { IngestKeyName(site), ReadTokenName(site) }).Append(OperatorTokenName);
            generated = LoadOrCreate(Path.Combine(fab.StateDirectory, "credentials.json"), names);
        }
        var credentials = new FabCredentials(builder, generated);
        builder.Services.AddSingleton(credentials);
        return credentials;
    }

    private const string OperatorTokenName = "operator-token";

    private static string IngestKeyName(string site) => $"localapi-{site}-ingest-key";

    private static string ReadTokenName(string site) => $"localapi-{site}-read-token";

    /// <summary>The operator token in run mode (what endpoints.json carries for every service).</summary>
    public string? OperatorToken => generated.GetValueOrDefault(OperatorTokenName);

    /// <summary>A site's Sidecar ingest key in run mode.</summary>
    public string? IngestKey(string site) => generated.GetValueOrDefault(IngestKeyName(site));

    /// <summary>LocalApi accepts its Sidecar's ingest key, CentralApi's read token and the operator token.</summary>
    public IResourceBuilder<ProjectResource> ForLocalApi(IResourceBuilder<ProjectResource> localApi, string site) =>
        Operator(localApi)
            .WithCredential($"sidecar-{site}", Parameter(IngestKeyName(site)), "ingest")
            .WithCredential("central", Parameter(ReadTokenName(site)), "read");

    /// <summary>The Sidecar sends its site's ingest key; the v2 SDK on its node needs none (it listens on loopback).</summary>
    public IResourceBuilder<ProjectResource> ForSidecar(IResourceBuilder<ProjectResource> sidecar, string site) =>
        Operator(sidecar).WithEnvironment("Sidecar__LocalApiKey", Parameter(IngestKeyName(site)));

    /// <summary>CentralApi sends each site its read token (<c>SiteTokens:&lt;site&gt;</c>).</summary>
    public IResourceBuilder<ProjectResource> ForCentral(IResourceBuilder<ProjectResource> central, string site) =>
        central.WithEnvironment($"SiteTokens__{site}", Parameter(ReadTokenName(site)));

    /// <summary>Every service accepts the operator token for reads and admin actions.</summary>
    public IResourceBuilder<ProjectResource> Operator(IResourceBuilder<ProjectResource> service) =>
        service.WithCredential(OperatorName, Parameter(OperatorTokenName), "read,admin");

    private IResourceBuilder<ParameterResource> Parameter(string name)
    {
        if (!parameters.TryGetValue(name, out var parameter))
        {
            parameter = generated.TryGetValue(name, out var value)
                ? builder.AddParameter(name, value, secret: true)
                : builder.AddParameter(name, secret: true);
            parameters[name] = parameter;
        }
        return parameter;
    }

    private static Dictionary<string, string> LoadOrCreate(string path, IEnumerable<string> names)
    {
        var secrets = File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
            : [];
        var missing = names.Where(n => !secrets.ContainsKey(n)).ToList();
        foreach (var name in missing)
            secrets[name] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        if (missing.Count > 0 || !File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, "");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(temporary, JsonSerializer.Serialize(secrets, new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, path, overwrite: true);
        }
        return secrets;
    }
}

internal static class CredentialEnvironment
{
    /// <summary>One entry of the service's <c>Security:Credentials</c>: the key (hashed by the service at start-up) and its scopes.</summary>
    public static IResourceBuilder<ProjectResource> WithCredential(
        this IResourceBuilder<ProjectResource> service, string name, IResourceBuilder<ParameterResource> key, string scopes) =>
        service.WithEnvironment($"Security__Credentials__{name}__Key", key)
            .WithEnvironment($"Security__Credentials__{name}__Scopes", scopes);
}
