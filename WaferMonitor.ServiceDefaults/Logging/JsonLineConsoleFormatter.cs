using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.ServiceDefaults.Logging;

/// <summary>
/// One JSON object per line with service, site, trace and span ids and the message's structured properties. It takes
/// the name <c>json</c> so <c>Logging:Console:FormatterName=json</c> selects it; the built-in JSON formatter cannot add
/// the service identity to every line.
/// </summary>
internal sealed class JsonLineConsoleFormatter(IOptions<ServiceIdentity> identity) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
            return;
        var service = identity.Value;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", DateTimeOffset.UtcNow);
            writer.WriteString("level", LevelName(logEntry.LogLevel));
            writer.WriteString("service", service.Name);
            if (service.Site is not null)
                writer.WriteString("site", service.Site);
            writer.WriteString("category", logEntry.Category);
            writer.WriteString("message", message);
            var activity = Activity.Current;
            if (activity is not null)
            {
                writer.WriteString("trace_id", activity.TraceId.ToHexString());
                writer.WriteString("span_id", activity.SpanId.ToHexString());
            }
            if (logEntry.EventId.Name is not null)
                writer.WriteString("event", logEntry.EventId.Name);
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> properties)
            {
                foreach (var (key, value) in properties)
                {
                    if (key == "{OriginalFormat}")
                        writer.WriteString("template", value?.ToString());
                    else
                        WriteValue(writer, key, value);
                }
            }
            if (logEntry.Exception is not null)
                writer.WriteString("exception", logEntry.Exception.ToString());
            writer.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static void WriteValue(Utf8JsonWriter writer, string key, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNull(key); break;
            case bool b: writer.WriteBoolean(key, b); break;
            case int or long or short or byte or uint or ulong or ushort:
                writer.WriteNumber(key, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            case double d when double.IsFinite(d): writer.WriteNumber(key, d); break;
            case float f when float.IsFinite(f): writer.WriteNumber(key, f); break;
            case decimal m: writer.WriteNumber(key, m); break;
            case DateTimeOffset t: writer.WriteString(key, t); break;
            case DateTime t: writer.WriteString(key, t); break;
            case TimeSpan t: writer.WriteNumber(key, t.TotalSeconds); break;
            default: writer.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}
