using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>
/// The Sidecar → LocalApi hop over HTTPS: LocalApi serves a certificate of a site CA made here (Kestrel's own
/// configuration), and the Sidecar trusts that CA through <c>Security:TrustedCaFile</c>.
/// </summary>
[Collection(FabCollection.Name)]
public sealed class TlsTests(FabFixture fab)
{
    [Fact]
    public async Task The_sidecar_forwards_to_a_localapi_serving_a_site_ca_certificate()
    {
        var site = "tls" + Guid.NewGuid().ToString("N")[..6];
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-" + site);
        Directory.CreateDirectory(stateDirectory);
        var files = TestCa.Write(stateDirectory);
        var httpsPort = new PortAllocator().Next();
        try
        {
            var builder = new DistributedApplicationBuilder(stateDirectory);
            var postgres = builder.AddPostgres("postgres", fab.PostgresConnectionString);
            var database = builder.AddDatabase(postgres, $"monitor-{site}");
            var localApi = builder.AddProject("localapi", "LocalApi")
                .WithReference(database, connectionName: "monitor")
                .WithEnvironment("LocalApi__SiteId", site);
            localApi
                .WithEnvironment("Kestrel__Endpoints__Http__Url", localApi.Url.ToString().TrimEnd('/'))
                .WithEnvironment("Kestrel__Endpoints__Https__Url", $"https://127.0.0.1:{httpsPort}")
                .WithEnvironment("Kestrel__Endpoints__Https__Certificate__Path", files.Certificate)
                .WithEnvironment("Kestrel__Endpoints__Https__Certificate__KeyPath", files.Key);
            builder.AddProject("sidecar", "Sidecar")
                .WaitFor(localApi)
                .WithEnvironment("Sidecar__LocalApiUrl", $"https://127.0.0.1:{httpsPort}")
                .WithEnvironment("Security__TrustedCaFile", files.Authority)
                .WithEnvironment("Spool__Directory", Path.Combine(stateDirectory, "spool"))
                .WithEnvironment("Forwarder__Linger", "10ms");
            await using var app = builder.Build(TextWriter.Null, quiet: true);
            await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);

            // Without the site CA the certificate is not trusted: the hop really is verified TLS.
            using (var untrusting = new HttpClient { BaseAddress = new Uri($"https://127.0.0.1:{httpsPort}") })
            {
                var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("/health"));
                Assert.IsType<AuthenticationException>(refused.InnerException);
            }

            using var sidecar = app.CreateHttpClient("sidecar");
            var jobId = Guid.NewGuid();
            await Events.PostBatchAsync(sidecar, [Events.Job(jobId, EventKinds.Started, DateTimeOffset.UtcNow, site: site)]);
            using var reader = app.CreateHttpClient("localapi");
            await Events.Eventually(async () => (await reader.GetAsync($"/v1/jobs/{jobId}")).StatusCode == HttpStatusCode.OK,
                "the event forwarded over TLS");
            var spool = await sidecar.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/spool");
            Assert.Equal(0, spool.GetProperty("dead_letters").GetInt64());
        }
        finally
        {
            FabFixture.TryDelete(stateDirectory);
        }
    }
    [Fact]
    public async Task The_archiver_writes_to_an_s3_serving_a_site_ca_certificate_and_refuses_it_without_that_ca()
    {
        var site = "tls" + Guid.NewGuid().ToString("N")[..6];
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-" + site);
        Directory.CreateDirectory(stateDirectory);
        var files = TestCa.Write(stateDirectory);
        try
        {
            var builder = new DistributedApplicationBuilder(stateDirectory);
            var postgres = builder.AddPostgres("postgres", fab.PostgresConnectionString);
            var database = builder.AddDatabase(postgres, $"monitor-{site}");
            var s3 = builder.AddS3("s3", "archive").WithTls(files.Certificate, files.Key);
            var localApi = builder.AddProject("localapi", "LocalApi")
                .WithReference(database, connectionName: "monitor")
                .WithEnvironment("LocalApi__SiteId", site);
            foreach (var (name, trusting) in new[] { ("archiver", true), ("untrusting", false) })
            {
                var archiver = builder.AddProject(name, "Archiver")
                    .WaitFor(localApi)
                    .WithReference(database, connectionName: "monitor")
                    .WithReference(s3)
                    .WithEnvironment("Archiver__SiteId", site)
                    .WithEnvironment("Archiver__S3__MaxErrorRetry", "0");
                if (trusting)
                    archiver.WithEnvironment("Security__TrustedCaFile", files.Authority);
            }
            await using var app = builder.Build(TextWriter.Null, quiet: true);
            await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
            Assert.StartsWith("https://", s3.Url);

            using var localApiClient = app.CreateHttpClient("localapi");
            await Events.PostBatchAsync(localApiClient, [Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow, site: site)]);
            using var untrusting = app.CreateHttpClient("untrusting");
            using (var refused = await untrusting.PostAsync("/v1/archive/run?through=now", null))
                Assert.False(refused.IsSuccessStatusCode, "an archiver without the site CA must not reach the S3 it cannot verify");
            using var archiverClient = app.CreateHttpClient("archiver");
            using var run = await archiverClient.PostAsync("/v1/archive/run?through=now", null);
            Assert.True(run.IsSuccessStatusCode, $"{(int)run.StatusCode}: {await run.Content.ReadAsStringAsync()}");
            Assert.NotEmpty(Directory.EnumerateFiles(s3.DataDirectory!, "*", SearchOption.AllDirectories));
        }
        finally
        {
            FabFixture.TryDelete(stateDirectory);
        }
    }
}

/// <summary>A site CA and a server certificate for 127.0.0.1 it signed, made for one test and written as PEM files.</summary>
internal static class TestCa
{
    public sealed record Files(string Authority, string Certificate, string Key);

    public static (X509Certificate2 Authority, X509Certificate2 Server) Create()
    {
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = DateTimeOffset.UtcNow.AddDays(1);
        using var authorityKey = RSA.Create(2048);
        var authorityRequest = new CertificateRequest("CN=WaferMonitor test site CA", authorityKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        var authority = authorityRequest.CreateSelfSigned(notBefore, notAfter);

        var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var signed = serverRequest.Create(authority, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        return (authority, signed.CopyWithPrivateKey(serverKey));
    }

    public static Files Write(string directory)
    {
        var (authority, server) = Create();
        using (authority)
        using (server)
        {
            var files = new Files(Path.Combine(directory, "site-ca.pem"), Path.Combine(directory, "localapi.pem"), Path.Combine(directory, "localapi.key"));
            File.WriteAllText(files.Authority, authority.ExportCertificatePem());
            File.WriteAllText(files.Certificate, server.ExportCertificatePem());
            File.WriteAllText(files.Key, server.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            return files;
        }
    }
}
