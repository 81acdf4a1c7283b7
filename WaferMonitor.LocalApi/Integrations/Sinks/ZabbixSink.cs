using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Integrations.Sinks;

/// <summary>
/// Sends, per batch of terminal jobs and per app, three trapper item values to a Zabbix server or proxy:
/// <c>&lt;prefix&gt;.jobs.finished[app]</c> (jobs that ended in the batch), <c>&lt;prefix&gt;.jobs.failed[app]</c> (of them,
/// failed) and <c>&lt;prefix&gt;.jobs.last_duration[app]</c> (seconds, the latest job's), each stamped with the latest
/// event's time. Counts are per batch: Zabbix sums them over time (e.g. <c>sum(//…,1h)</c>).
/// </summary>
internal sealed partial class ZabbixSink(ZabbixIntegrationOptions options, ILogger<ZabbixSink> logger) : IIntegrationSink
{
    public int MaxBatch => int.MaxValue;

    public async Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken)
    {
        var values = ItemValues(events);
        if (values.Count == 0)
            return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout.Value);
        var answer = await ZabbixSender.SendAsync(options.Server, options.Port, values, timeout.Token);
        if (answer.Failed > 0)
        {
            // Zabbix refuses values of items it does not know (or of the wrong type); sending them again would not help.
            LogValuesRefused(options.Host, answer.Failed, answer.Info);
        }
    }

    public List<ZabbixValue> ItemValues(IReadOnlyList<IntegrationEvent> events)
    {
        var values = new List<ZabbixValue>();
        foreach (var app in events.GroupBy(e => e.Event.App.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var latest = app.MaxBy(e => e.Event.Event.At)!;
            var clock = latest.Event.Event.At.ToUnixTimeSeconds();
            var key = KeyArgument(app.Key);
            values.Add(new ZabbixValue(options.Host, $"{options.KeyPrefix}.jobs.finished[{key}]", app.Count().ToString(CultureInfo.InvariantCulture), clock));
            values.Add(new ZabbixValue(options.Host, $"{options.KeyPrefix}.jobs.failed[{key}]",
                app.Count(e => e.Status == EntityStatuses.Failed).ToString(CultureInfo.InvariantCulture), clock));
            if (app.Where(e => e.Metric(MetricNames.DurationSeconds) is not null).MaxBy(e => e.Event.Event.At) is { } timed)
            {
                values.Add(new ZabbixValue(options.Host, $"{options.KeyPrefix}.jobs.last_duration[{key}]",
                    timed.Metric(MetricNames.DurationSeconds)!.Value.ToString("R", CultureInfo.InvariantCulture), timed.Event.Event.At.ToUnixTimeSeconds()));
            }
        }
        return values;
    }

    /// <summary>An item key parameter: quoted when it holds characters Zabbix's key syntax reserves.</summary>
    private static string KeyArgument(string value) =>
        PlainKeyParameter().IsMatch(value) ? value : $"\"{value.Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]+$")]
    private static partial Regex PlainKeyParameter();

    [LoggerMessage(EventName = "zabbix_values_refused", Level = LogLevel.Warning,
        Message = "Zabbix refused {failed} values for host {host} (are its trapper items configured?): {info}")]
    private partial void LogValuesRefused(string host, int failed, string info);
}

internal sealed record ZabbixValue(string Host, string Key, string Value, long Clock);

/// <param name="Info">Zabbix's summary, e.g. <c>processed: 3; failed: 0; total: 3; seconds spent: 0.000055</c>.</param>
internal sealed record ZabbixAnswer(int Processed, int Failed, string Info);

/// <summary>
/// The Zabbix sender (trapper) protocol, written here because no obtainable .NET library speaks it: a request and its
/// answer are each one frame of <c>ZBXD</c>, protocol flags <c>0x01</c>, the JSON's length as a little-endian 32-bit
/// integer, 4 reserved zero bytes, then the JSON. One connection per request, as <c>zabbix_sender</c> does.
/// </summary>
internal static partial class ZabbixSender
{
    public static readonly byte[] Magic = "ZBXD"u8.ToArray();
    public const byte ProtocolFlags = 0x01;
    public const int HeaderLength = 13;

    /// <summary>Zabbix limits a frame to 1 GB; an answer is a few hundred bytes.</summary>
    private const int MaxAnswerLength = 16 * 1024 * 1024;

    public static async Task<ZabbixAnswer> SendAsync(string server, int port, IReadOnlyList<ZabbixValue> values, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server, port, cancellationToken);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Frame(RequestJson(values)), cancellationToken);
        var answer = JsonDocument.Parse(await ReadFrameAsync(stream, cancellationToken));
        var response = answer.RootElement.TryGetProperty("response", out var r) ? r.GetString() : null;
        var info = answer.RootElement.TryGetProperty("info", out var i) ? i.GetString() ?? "" : "";
        if (response != "success")
            throw new IOException($"Zabbix answered '{response}': {info}");
        var counts = InfoCounts().Match(info);
        return counts.Success
            ? new ZabbixAnswer(int.Parse(counts.Groups["processed"].Value, CultureInfo.InvariantCulture), int.Parse(counts.Groups["failed"].Value, CultureInfo.InvariantCulture), info)
            : new ZabbixAnswer(values.Count, 0, info);
    }

    public static byte[] RequestJson(IReadOnlyList<ZabbixValue> values)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("request", "sender data");
            json.WriteStartArray("data");
            foreach (var value in values)
            {
                json.WriteStartObject();
                json.WriteString("host", value.Host);
                json.WriteString("key", value.Key);
                json.WriteString("value", value.Value);
                json.WriteNumber("clock", value.Clock);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static byte[] Frame(ReadOnlySpan<byte> json)
    {
        var frame = new byte[HeaderLength + json.Length];
        Magic.CopyTo(frame, 0);
        frame[4] = ProtocolFlags;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(5, 4), json.Length);
        json.CopyTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    /// <summary>Reads one frame and returns its JSON.</summary>
    public static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderLength];
        await stream.ReadExactlyAsync(header, cancellationToken);
        if (!header.AsSpan(0, 4).SequenceEqual(Magic))
            throw new IOException("not a Zabbix frame (no ZBXD header)");
        if ((header[4] & 0x02) != 0)
            throw new IOException("a compressed Zabbix frame; this sender does not ask for compression");
        var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(5, 4));
        if (length is < 0 or > MaxAnswerLength)
            throw new IOException($"a Zabbix frame of {length} bytes");
        var json = new byte[length];
        await stream.ReadExactlyAsync(json, cancellationToken);
        return json;
    }

    [GeneratedRegex(@"processed:\s*(?<processed>\d+);\s*failed:\s*(?<failed>\d+)")]
    private static partial Regex InfoCounts();
}
