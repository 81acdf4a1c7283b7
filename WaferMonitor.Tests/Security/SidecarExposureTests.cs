using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using WaferMonitor.Rigs;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Security;

/// <summary>
/// A Sidecar that listens anywhere beyond loopback requires an ingest credential, on every address. Tests bind TCP to
/// 127.0.0.1 only, so the address beyond loopback here is a Unix socket: reachable by other local users, and not a
/// loopback address to the Sidecar's rule, as 0.0.0.0 or a node's own IP would not be.
/// </summary>
public sealed class SidecarExposureTests
{
    [Fact]
    public async Task A_sidecar_listening_beyond_loopback_refuses_anonymous_v2_events_and_takes_keyed_ones()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "wm-exposed-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(stateDirectory);
        var socketPath = Path.Combine(stateDirectory, "sidecar.sock");
        try
        {
            var builder = new DistributedApplicationBuilder(stateDirectory);
            var sidecar = builder.AddProject("sidecar", "Sidecar");
            sidecar
                .WithEnvironment("Kestrel__Endpoints__Http__Url", sidecar.Url.ToString().TrimEnd('/'))
                .WithEnvironment("Kestrel__Endpoints__Node__Url", $"http://unix:{socketPath}")
                // Nothing to forward to: accepted events stay in the spool, which is what is counted here.
                .WithEnvironment("Sidecar__LocalApiUrl", $"http://127.0.0.1:{new PortAllocator().Next()}")
                .WithEnvironment("Spool__Directory", Path.Combine(stateDirectory, "spool"));
            await using var app = builder.Build(TextWriter.Null, quiet: true);
            await app.StartAsync(TimeSpan.FromMinutes(2), CancellationToken.None);

            using var keyed = app.CreateHttpClient("sidecar");
            using var anonymous = new HttpClient { BaseAddress = sidecar.Url };
            using var anonymousOnSocket = new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            }) { BaseAddress = new Uri("http://sidecar") };

            var anonymousEvent = Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow);
            foreach (var client in new[] { anonymous, anonymousOnSocket })
            {
                using var single = await client.PostAsJsonAsync("/v1/ingest/events", anonymousEvent);
                Assert.Equal(HttpStatusCode.Unauthorized, single.StatusCode);
                using var batch = await client.PostAsJsonAsync("/v1/ingest/events:batch", new[] { anonymousEvent });
                Assert.Equal(HttpStatusCode.Unauthorized, batch.StatusCode);
            }
            Assert.Equal(0, await PendingAsync(keyed));

            await Events.PostBatchAsync(keyed, [Events.Job(Guid.NewGuid(), EventKinds.Started, DateTimeOffset.UtcNow)]);
            Assert.Equal(1, await PendingAsync(keyed));
        }
        finally
        {
            FabFixture.TryDelete(stateDirectory);
        }
    }

    private static async Task<long> PendingAsync(HttpClient sidecar) =>
        (await sidecar.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/spool")).GetProperty("events").GetInt64();
}
