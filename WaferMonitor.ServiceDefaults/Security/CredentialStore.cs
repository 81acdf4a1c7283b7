using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace WaferMonitor.ServiceDefaults.Security;

public sealed record KnownCredential(string Name, IReadOnlyList<string> Scopes, bool Revoked);

/// <summary>
/// The configured credentials by the SHA-256 of their secret: a presented key is hashed and looked up, so neither the
/// configuration (with <c>Sha256</c>) nor memory keeps a secret to compare against.
/// </summary>
public sealed class CredentialStore(IOptions<SecurityOptions> options)
{
    private readonly Lazy<Dictionary<string, KnownCredential>> byHash = new(() => Build(options.Value));

    public KnownCredential? Find(string presentedKey) =>
        byHash.Value.GetValueOrDefault(Hash(presentedKey));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static Dictionary<string, KnownCredential> Build(SecurityOptions options)
    {
        var credentials = new Dictionary<string, KnownCredential>(StringComparer.Ordinal);
        foreach (var (name, credential) in options.Credentials)
        {
            var hash = credential.Sha256 is { Length: > 0 } configured ? configured.ToLowerInvariant() : Hash(credential.Key!);
            credentials[hash] = new KnownCredential(name, credential.ScopeList, credential.Revoked);
        }
        return credentials;
    }
}
