using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WaferMonitor.ServiceDefaults.Security;

/// <summary>Marks an endpoint that also takes its token from <c>?access_token=</c>: a browser's EventSource cannot send headers.</summary>
public sealed class QueryStringTokenMetadata;

/// <summary>
/// Opaque API keys from <c>Authorization: Bearer</c> or <c>X-Api-Key</c>, looked up by hash in <see cref="CredentialStore"/>.
/// Written here because ASP.NET Core ships JWT bearer and OIDC handlers but none for opaque keys, and no package in our
/// registry's list does it (JWTs would need a token issuer the fab does not have).
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder,
    CredentialStore credentials, SecurityMetrics metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ApiKeyHeader = "X-Api-Key";
    public const string QueryStringToken = "access_token";

    private ILogger Log => Logger;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey() is not { Length: > 0 } key)
            return Task.FromResult(AuthenticateResult.NoResult());
        var credential = credentials.Find(key);
        if (credential is null)
            return Task.FromResult(Refuse("unknown", "an unknown credential"));
        if (credential.Revoked)
            return Task.FromResult(Refuse("revoked", $"revoked credential '{credential.Name}'"));
        var claims = credential.Scopes.Select(s => new Claim(Scopes.ClaimType, s)).Append(new Claim(ClaimTypes.Name, credential.Name));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A refused credential was counted and logged when it was read; a missing one is counted here.
        if (PresentedKey() is not { Length: > 0 })
        {
            metrics.Failed("missing");
            LogRefused(Log, "missing", "no credential", Request.Method, Request.Path, Context.Connection.RemoteIpAddress?.ToString());
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        metrics.Failed("scope");
        LogRefused(Log, "scope", $"credential '{Context.User.Identity?.Name}' lacks the scope", Request.Method, Request.Path,
            Context.Connection.RemoteIpAddress?.ToString());
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }

    private AuthenticateResult Refuse(string reason, string what)
    {
        metrics.Failed(reason);
        LogRefused(Log, reason, what, Request.Method, Request.Path, Context.Connection.RemoteIpAddress?.ToString());
        return AuthenticateResult.Fail(what);
    }

    private string? PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        if (Request.Headers[ApiKeyHeader].ToString() is { Length: > 0 } apiKey)
            return apiKey.Trim();
        if (Context.GetEndpoint()?.Metadata.GetMetadata<QueryStringTokenMetadata>() is not null)
            return Request.Query[QueryStringToken].ToString();
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Reason}: {What} for {Method} {Path} from {RemoteAddress}")]
    private static partial void LogRefused(ILogger logger, string reason, string what, string method, string path, string? remoteAddress);
}
