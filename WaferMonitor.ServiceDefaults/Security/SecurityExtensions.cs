using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Security;

public static class SecurityExtensions
{
    /// <summary>
    /// API-key authentication, one authorization policy per scope with <see cref="FallbackRequirement"/> as the fallback (a
    /// route that declares nothing is closed to all but admins), the per-credential ingest rate limit, and trust in the site CA for every
    /// HttpClient when <c>Security:TrustedCaFile</c> is set.
    /// </summary>
    public static void AddServiceSecurity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<SecurityOptions>(SecurityOptions.SectionName);
        services.AddSingleton<CredentialStore>();
        services.AddSingleton<SecurityMetrics>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorizationHandler>();
        services.AddSingleton<IAuthorizationHandler, FallbackAuthorizationHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(SecurityPolicies.Ingest, policy => policy.AddRequirements(new ScopeRequirement(Scopes.Ingest)))
            .AddPolicy(SecurityPolicies.Read, policy => policy.AddRequirements(new ScopeRequirement(Scopes.Read)))
            .AddPolicy(SecurityPolicies.Admin, policy => policy.AddRequirements(new ScopeRequirement(Scopes.Admin)))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new FallbackRequirement()).Build());
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
            limiter.AddPolicy(SecurityPolicies.IngestRateLimit, context =>
            {
                var settings = context.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
                // Per credential. Ingest without one is only the loopback Sidecar's v2 SDK, whose senders must not see a
                // 429 they were never written for (the spool's 503 already bounds them).
                if (context.User.Identity?.Name is not { } caller || settings.IngestRequestsPerSecond == 0)
                    return RateLimitPartition.GetNoLimiter("");
                return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = settings.IngestBurst,
                    TokensPerPeriod = settings.IngestRequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                });
            });
        });
        if (builder.Configuration[$"{SecurityOptions.SectionName}:{nameof(SecurityOptions.TrustedCaFile)}"] is { Length: > 0 } caFile)
            services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(() => TrustedCaFile.Handler(caFile)));
    }

    /// <summary>Authentication, authorization and rate limiting, in that order (the limiter partitions by credential).</summary>
    public static void UseServiceSecurity(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
    }

    /// <summary>Queries, stream, stats, pages' data: a token with <c>read</c> (or <c>admin</c>), unless anonymous reads are on.</summary>
    public static TBuilder RequireRead<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireAuthorization(SecurityPolicies.Read);

    /// <summary>Mutating operator actions: a token with <c>admin</c>.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireAuthorization(SecurityPolicies.Admin);

    /// <summary>Writes of events and heartbeats: a key with <c>ingest</c>, rate-limited per key.</summary>
    public static TBuilder RequireIngest<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireAuthorization(SecurityPolicies.Ingest).RequireRateLimiting(SecurityPolicies.IngestRateLimit);
}

/// <summary>
/// <c>Security:TrustedCaFile</c>: a PEM bundle of CA certificates whose server certificates every client of this service
/// accepts in addition to the system's trust store (a site CA). The host name must still match.
/// </summary>
public static class TrustedCaFile
{
    public static SocketsHttpHandler Handler(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caFile);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors, authorities),
            },
        };
    }

    public static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}

public static class HttpClientCredentialExtensions
{
    /// <summary>Sends <paramref name="key"/> (when there is one) as <c>Authorization: Bearer</c> on every request of this client.</summary>
    public static IHttpClientBuilder WithBearerCredential(this IHttpClientBuilder http, Func<IServiceProvider, string?> key) =>
        http.ConfigureHttpClient((services, client) =>
        {
            if (key(services) is { Length: > 0 } secret)
                client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        });
}
