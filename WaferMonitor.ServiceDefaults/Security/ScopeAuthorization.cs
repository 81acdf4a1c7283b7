using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace WaferMonitor.ServiceDefaults.Security;

/// <summary>The caller's credential must carry <see cref="Scope"/> (<c>admin</c> also grants <c>read</c>).</summary>
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

/// <summary>
/// Grants a <see cref="ScopeRequirement"/> for a credential with that scope, and without one where the configuration
/// opens it: reads with <c>AllowAnonymousReads</c>, ingest with <c>AnonymousIngest=OnLoopback</c> while the service
/// listens on loopback only.
/// </summary>
public sealed class ScopeAuthorizationHandler(IOptions<SecurityOptions> options, IServer server) : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var granted = context.User.HasClaim(Scopes.ClaimType, requirement.Scope)
            || (requirement.Scope == Scopes.Read && context.User.HasClaim(Scopes.ClaimType, Scopes.Admin))
            || (requirement.Scope == Scopes.Read && options.Value.AllowAnonymousReads)
            || (requirement.Scope == Scopes.Ingest && options.Value.AnonymousIngest == AnonymousIngest.OnLoopback && ListensOnLoopbackOnly());
        if (granted)
            context.Succeed(requirement);
        return Task.CompletedTask;
    }

    /// <summary>True when every address the server listens on is a loopback one (no request can come from another host).</summary>
    private bool ListensOnLoopbackOnly()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        return addresses is { Count: > 0 } && addresses.All(IsLoopback);
    }

    public static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal),
                UriKind.Absolute, out var uri))
            return false;
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}

/// <summary>
/// The fallback for what declares no policy: a mapped route needs <c>admin</c> (a forgotten route is closed, not open);
/// a request no route takes (404, or the router's own 405 and 415 answers, which run no code of ours) needs any valid
/// credential, so a stranger learns nothing about the routes and a caller with a key gets the real error.
/// </summary>
public sealed record FallbackRequirement : IAuthorizationRequirement;

public sealed class FallbackAuthorizationHandler : AuthorizationHandler<FallbackRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, FallbackRequirement requirement)
    {
        var isRoute = context.Resource is Microsoft.AspNetCore.Http.HttpContext http
            && Microsoft.AspNetCore.Http.EndpointHttpContextExtensions.GetEndpoint(http) is Microsoft.AspNetCore.Routing.RouteEndpoint;
        var granted = isRoute
            ? context.User.HasClaim(Scopes.ClaimType, Scopes.Admin)
            : context.User.Identity?.IsAuthenticated == true;
        if (granted)
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>The authorization policies, one per scope.</summary>
public static class SecurityPolicies
{
    public const string Ingest = Scopes.Ingest;
    public const string Read = Scopes.Read;
    public const string Admin = Scopes.Admin;

    /// <summary>The ingest rate limiter's policy name.</summary>
    public const string IngestRateLimit = "ingest";
}
