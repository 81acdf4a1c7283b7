using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace WaferMonitor.Tests.Integrations;

public sealed record TrapperValue(string Host, string Key, string Value, long Clock);

/// <summary>
/// Answers like a Zabbix server's trapper on 127.0.0.1: reads one sender frame per connection (<c>ZBXD</c>, flags 0x01,
/// little-endian 32-bit length, 4 reserved bytes, JSON), checks it is a <c>sender data</c> request, records its values and
/// answers <c>{"response":"success","info":"processed: N; failed: 0; …"}</c> in the same framing. Parsed here
/// independently of the service's sender, so the test checks the wire bytes, not the sender against itself.
/// </summary>
public sealed class ZabbixTrapperListener : IAsyncDisposable
{
    private readonly Lock gate = new();
    private readonly List<TrapperValue> values = [];
    private readonly List<string> problems = [];
    private readonly CancellationTokenSource stop = new();
    private TcpListener? listener;
    private Task? accepting;

    public int Port { get; private set; }

    public IReadOnlyList<TrapperValue> Values
    {
        get
        {
            lock (gate)
                return [.. values];
        }
    }

    /// <summary>Frames that were not what Zabbix accepts; empty when the sender spoke the protocol.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (gate)
                return [.. problems];
        }
    }

    public static ZabbixTrapperListener Start()
    {
        var zabbix = new ZabbixTrapperListener();
        zabbix.Up();
        return zabbix;
    }

    public void Up()
    {
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var current = listener;
        accepting = Task.Run(() => AcceptAsync(current));
    }

    public async Task DownAsync()
    {
        if (listener is null)
            return;
        listener.Stop();
        listener = null;
        await accepting!.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task AcceptAsync(TcpListener current)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await current.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException or OperationCanceledException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    await AnswerAsync(client.GetStream());
                }
                catch (Exception ex) when (ex is IOException or JsonException or EndOfStreamException or KeyNotFoundException or InvalidOperationException)
                {
                    lock (gate)
                        problems.Add(ex.Message);
                }
            }
        }
    }

    private async Task AnswerAsync(NetworkStream stream)
    {
        var header = new byte[13];
        await stream.ReadExactlyAsync(header, stop.Token);
        if (Encoding.ASCII.GetString(header, 0, 4) != "ZBXD" || header[4] != 0x01)
            throw new IOException($"bad header {Convert.ToHexString(header)}");
        var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(5, 4));
        if (BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(9, 4)) != 0)
            throw new IOException("reserved header bytes are not zero");
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, stop.Token);
        using var request = JsonDocument.Parse(body);
        if (request.RootElement.GetProperty("request").GetString() != "sender data")
            throw new IOException($"request is {request.RootElement.GetProperty("request")}");
        var received = request.RootElement.GetProperty("data").EnumerateArray().Select(v => new TrapperValue(
            v.GetProperty("host").GetString()!, v.GetProperty("key").GetString()!, v.GetProperty("value").GetString()!,
            v.GetProperty("clock").GetInt64())).ToList();
        lock (gate)
            values.AddRange(received);
        var answer = Encoding.UTF8.GetBytes(
            $$"""{"response":"success","info":"processed: {{received.Count}}; failed: 0; total: {{received.Count}}; seconds spent: 0.000042"}""");
        var frame = new byte[13 + answer.Length];
        "ZBXD"u8.CopyTo(frame);
        frame[4] = 0x01;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(5, 4), answer.Length);
        answer.CopyTo(frame, 13);
        await stream.WriteAsync(frame, stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await DownAsync();
        stop.Dispose();
    }
}
