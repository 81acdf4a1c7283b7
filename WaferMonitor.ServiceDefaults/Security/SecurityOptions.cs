using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace WaferMonitor.ServiceDefaults.Security;

/// <summary>Bound from <c>Security</c>: who may call this service, and with what.</summary>
public sealed partial class SecurityOptions : IValidatableObject
{
    public const string SectionName = "Security";

    /// <summary>The credentials this service accepts, by name (the name is what logs and metrics show, never the secret).</summary>
    public Dictionary<string, CredentialOptions> Credentials { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Serves read routes without a token, for a site that must keep serving v2's unauthenticated readers. Ingest and
    /// admin routes still need a credential.
    /// </summary>
    public bool AllowAnonymousReads { get; set; }

    /// <summary>
    /// <c>Never</c>: ingest needs a credential with the <c>ingest</c> scope. <c>OnLoopback</c> (the Sidecar's default):
    /// ingest is open while every address the service listens on is a loopback one, and needs a credential as soon as one
    /// is not.
    /// </summary>
    public AnonymousIngest AnonymousIngest { get; set; } = AnonymousIngest.Never;

    /// <summary>Ingest requests one credential may make per second, on average (token bucket); 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int IngestRequestsPerSecond { get; set; } = 500;

    /// <summary>Ingest requests one credential may make at once above the average rate (the bucket's size).</summary>
    [Range(1, 1_000_000)]
    public int IngestBurst { get; set; } = 1000;

    /// <summary>
    /// A PEM bundle of CA certificates (a site CA) whose server certificates this service's HTTP clients accept in
    /// addition to the system trust store.
    /// </summary>
    public string? TrustedCaFile { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TrustedCaFile is { Length: > 0 } && !File.Exists(TrustedCaFile))
            yield return new ValidationResult($"'{TrustedCaFile}' does not exist", [nameof(TrustedCaFile)]);
        foreach (var (name, credential) in Credentials)
        {
            var key = $"Credentials:{name}";
            if (!CredentialName().IsMatch(name))
                yield return new ValidationResult("must be a name of letters, digits, '.', '_' or '-'", [key]);
            if (string.IsNullOrEmpty(credential.Key) == string.IsNullOrEmpty(credential.Sha256))
                yield return new ValidationResult("set exactly one of Key (hashed at start-up) and Sha256 (64 hex digits)", [key]);
            if (credential.Sha256 is { Length: > 0 } hash && !Sha256Hex().IsMatch(hash))
                yield return new ValidationResult("Sha256 must be 64 hex digits (sha256sum of the key)", [$"{key}:Sha256"]);
            if (credential.Key is { Length: > 0 and < MinimumKeyLength })
                yield return new ValidationResult($"Key must be at least {MinimumKeyLength} characters", [$"{key}:Key"]);
            foreach (var scope in credential.ScopeList.Where(s => !Scopes.All.Contains(s)))
                yield return new ValidationResult($"unknown scope '{scope}'; use {string.Join(", ", Scopes.All)}", [$"{key}:Scopes"]);
            if (credential.ScopeList.Count == 0)
                yield return new ValidationResult($"name at least one scope: {string.Join(", ", Scopes.All)}", [$"{key}:Scopes"]);
        }
    }

    public const int MinimumKeyLength = 16;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex CredentialName();

    [GeneratedRegex("^[0-9A-Fa-f]{64}$")]
    private static partial Regex Sha256Hex();
}

/// <summary>One API key or token: its secret (or the secret's SHA-256) and what it may do.</summary>
public sealed class CredentialOptions
{
    /// <summary>The secret itself, e.g. from an AppHost secret parameter; hashed at start-up and then forgotten.</summary>
    public string? Key { get; set; }

    /// <summary>The lowercase or uppercase hex SHA-256 of the secret, so the configuration never holds the secret.</summary>
    public string? Sha256 { get; set; }

    /// <summary>Comma- or space-separated: <c>ingest</c>, <c>read</c>, <c>admin</c>.</summary>
    public string Scopes { get; set; } = "";

    /// <summary>A revoked credential is refused (and logged as such) but kept so its use is recognised.</summary>
    public bool Revoked { get; set; }

    internal IReadOnlyList<string> ScopeList =>
        Scopes.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public enum AnonymousIngest
{
    Never,
    OnLoopback,
}

/// <summary>What a credential may do.</summary>
public static class Scopes
{
    /// <summary>Send events and Sidecar heartbeats.</summary>
    public const string Ingest = "ingest";

    /// <summary>Queries, stream, stats, alerts, pages' data.</summary>
    public const string Read = "read";

    /// <summary>Mutating operator actions (dead-letter replay, archive runs); implies <see cref="Read"/>.</summary>
    public const string Admin = "admin";

    public static readonly string[] All = [Ingest, Read, Admin];

    public const string ClaimType = "scope";
}
