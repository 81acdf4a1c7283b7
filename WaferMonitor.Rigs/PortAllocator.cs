using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WaferMonitor.Rigs;

/// <summary>
/// Free loopback ports for resources, chosen below the kernel's ephemeral range: a port from that range (what binding
/// to port 0 returns) can be taken by any outgoing connection between allocation and bind, or while a crashed service
/// waits to be restarted on the same URL.
/// </summary>
internal sealed class PortAllocator
{
    private const int LowestPort = 10_000;
    private readonly HashSet<int> handedOut = [];
    private readonly (int Low, int High) range = Range();

    public int Next()
    {
        lock (handedOut)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(range.Low, range.High);
                if (!handedOut.Contains(port) && IsFree(port))
                {
                    handedOut.Add(port);
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"no free loopback port between {range.Low} and {range.High}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Below the ephemeral range when there is room there (Linux default 32768–60999), else above it.</summary>
    private static (int Low, int High) Range()
    {
        const string ephemeral = "/proc/sys/net/ipv4/ip_local_port_range";
        var bounds = File.Exists(ephemeral)
            ? File.ReadAllText(ephemeral).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
                .Select(text => int.Parse(text, CultureInfo.InvariantCulture)).ToArray()
            : [49152, 65535];
        return bounds[0] - LowestPort >= 5_000 ? (LowestPort, bounds[0]) : (bounds[1] + 1, 65536);
    }
}
