using System.Net.Security;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Security;

namespace WaferMonitor.Tests.Security;

/// <summary>The rules behind the policies, without a network: scopes, anonymous ingest on loopback, the site CA.</summary>
public sealed class SecurityRuleTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8000", true)]
    [InlineData("http://localhost:8000", true)]
    [InlineData("http://[::1]:8000", true)]
    [InlineData("http://0.0.0.0:8000", false)]
    [InlineData("http://+:8000", false)]
    [InlineData("http://*:8000", false)]
    [InlineData("http://10.1.2.3:8000", false)]
    public async Task The_sidecar_takes_anonymous_ingest_only_while_every_address_it_listens_on_is_loopback(string extra, bool anonymousAllowed)
    {
        var server = new FakeServer("http://127.0.0.1:8000", extra);
        var sidecar = new SecurityOptions { AnonymousIngest = AnonymousIngest.OnLoopback };
        Assert.Equal(anonymousAllowed, await AllowsAsync(sidecar, server, Scopes.Ingest, new ClaimsPrincipal()));
        Assert.False(await AllowsAsync(new SecurityOptions(), server, Scopes.Ingest, new ClaimsPrincipal()));
        Assert.True(await AllowsAsync(sidecar, server, Scopes.Ingest, With(Scopes.Ingest)));
    }

    [Fact]
    public async Task Admin_implies_read_but_not_ingest_and_anonymous_reads_open_reads_only()
    {
        var server = new FakeServer("http://0.0.0.0:18000");
        var closed = new SecurityOptions();
        Assert.True(await AllowsAsync(closed, server, Scopes.Read, With(Scopes.Admin)));
        Assert.False(await AllowsAsync(closed, server, Scopes.Ingest, With(Scopes.Admin)));
        Assert.False(await AllowsAsync(closed, server, Scopes.Admin, With(Scopes.Read)));
        Assert.False(await AllowsAsync(closed, server, Scopes.Read, With(Scopes.Ingest)));
        var open = new SecurityOptions { AllowAnonymousReads = true };
        Assert.True(await AllowsAsync(open, server, Scopes.Read, new ClaimsPrincipal()));
        Assert.False(await AllowsAsync(open, server, Scopes.Admin, new ClaimsPrincipal()));
        Assert.False(await AllowsAsync(open, server, Scopes.Ingest, new ClaimsPrincipal()));
    }

    [Fact]
    public void A_certificate_is_trusted_through_the_site_ca_only_when_that_ca_signed_it()
    {
        var (siteCa, server) = TestCa.Create();
        var (otherCa, stranger) = TestCa.Create();
        using (siteCa)
        using (server)
        using (otherCa)
        using (stranger)
        {
            var trusted = new X509Certificate2Collection { siteCa };
            Assert.True(TrustedCaFile.Validate(server, SslPolicyErrors.RemoteCertificateChainErrors, trusted));
            Assert.False(TrustedCaFile.Validate(stranger, SslPolicyErrors.RemoteCertificateChainErrors, trusted));
            Assert.False(TrustedCaFile.Validate(server, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors, trusted));
        }
    }

    [Fact]
    public void Credentials_are_refused_at_start_up_when_incomplete_or_unknown_in_scope()
    {
        var options = new SecurityOptions
        {
            Credentials = new()
            {
                ["both"] = new CredentialOptions { Key = "a-key-long-enough-123", Sha256 = new string('a', 64), Scopes = "read" },
                ["short"] = new CredentialOptions { Key = "short", Scopes = "read" },
                ["scope"] = new CredentialOptions { Key = "a-key-long-enough-123", Scopes = "write" },
                ["hash"] = new CredentialOptions { Sha256 = "abc", Scopes = "ingest" },
            },
        };
        var errors = string.Join("\n", options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(r => $"{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        Assert.Contains("Credentials:both: set exactly one of Key", errors);
        Assert.Contains("Credentials:short:Key: Key must be at least 16 characters", errors);
        Assert.Contains("Credentials:scope:Scopes: unknown scope 'write'", errors);
        Assert.Contains("Credentials:hash:Sha256: Sha256 must be 64 hex digits", errors);
    }

    private static ClaimsPrincipal With(string scope) =>
        new(new ClaimsIdentity([new Claim(Scopes.ClaimType, scope)], ApiKeyAuthenticationHandler.SchemeName));

    private static async Task<bool> AllowsAsync(SecurityOptions options, IServer server, string scope, ClaimsPrincipal user)
    {
        var requirement = new ScopeRequirement(scope);
        var context = new AuthorizationHandlerContext([requirement], user, null);
        await new ScopeAuthorizationHandler(Options.Create(options), server).HandleAsync(context);
        return context.HasSucceeded;
    }

    private sealed class FakeServer : IServer
    {
        public FakeServer(params string[] addresses)
        {
            var feature = new ServerAddressesFeature();
            foreach (var address in addresses)
                feature.Addresses.Add(address);
            Features.Set<IServerAddressesFeature>(feature);
        }

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public void Dispose()
        {
        }

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull =>
            Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
