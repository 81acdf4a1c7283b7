using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WaferMonitor.Cli.Reading;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Cli.Commands;

/// <summary><c>wafermonitor tail</c>: follows a site's live stream (<c>/v1/stream</c>) and prints one line per event.</summary>
internal static class TailCommand
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private static readonly string[] MetricOrder =
        [MetricNames.DurationSeconds, MetricNames.CpuUserSeconds, MetricNames.CpuSystemSeconds, MetricNames.MemMaxMb];

    public static Command Create()
    {
        var api = new ApiOptions();
        var kind = new Option<string?>("--kind") { Description = "Only these event kinds: started,progress,metric,finished,error,canceled" };
        var job = new Option<Guid?>("--job") { Description = "Only this job's events and its subjobs'" };
        var command = new Command("tail", "Follow a site's live stream of events (LocalApi's /v1/stream) until Ctrl+C; reconnects and resumes where it left off.");
        api.AddTo(command);
        command.Add(kind);
        command.Add(job);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = new ApiClient(parse.GetValue(api.Api), parse.GetValue(api.Token));
            var query = "v1/stream" + Query.Build(
                ("status", parse.GetValue(api.Status)),
                ("kind", parse.GetValue(kind)),
                ("app_name", parse.GetValue(api.App)),
                ("job_id", parse.GetValue(job)?.ToString()));
            var json = parse.GetValue(api.Json);
            await FollowAsync(client, query, json, cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Reads Server-Sent Events; after a dropped connection it reconnects with Last-Event-ID (no gaps, no duplicates),
    /// and after a <c>reset</c> (the id left the server's replay window) it starts again from now.
    /// </summary>
    private static async Task FollowAsync(ApiClient client, string query, bool json, CancellationToken cancellationToken)
    {
        string? lastId = null;
        var connectedOnce = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var response = await client.OpenStreamAsync(query, lastId, cancellationToken);
                connectedOnce = true;
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
                string? eventName = null;
                var data = new StringBuilder();
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (eventName == "reset")
                        {
                            Terminal.Warn("the stream was reset (we were too far behind); continuing from now");
                            lastId = null;
                        }
                        else if (data.Length > 0)
                        {
                            Console.WriteLine(json ? data.ToString() : Describe(data.ToString()));
                        }
                        eventName = null;
                        data.Clear();
                    }
                    else if (line.StartsWith("id:", StringComparison.Ordinal))
                    {
                        lastId = line[3..].Trim();
                    }
                    else if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        eventName = line[6..].Trim();
                    }
                    else if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        data.Append(line[5..].TrimStart());
                    }
                }
            }
            catch (ApiException) when (connectedOnce)
            {
                // LocalApi restarting: keep trying; the first connection's failure is reported instead.
            }
            catch (IOException) when (connectedOnce)
            {
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            await Task.Delay(ReconnectDelay, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One aligned line: time, kind, status, entity, app, and the terminal metrics or error when present.</summary>
    private static string Describe(string data)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        var wire = root.GetProperty("event");
        var entity = wire.GetProperty("entity");
        var body = wire.GetProperty("event");
        var isJob = entity.GetProperty("type").GetString() == "job";
        // finish and fail name the entity by id only.
        var key = Text(entity, isJob ? "business_key" : "sub_key") is var text && text != "-" ? text : Text(entity, "id");
        var name = isJob ? key : "  " + key;
        var status = root.TryGetProperty("entity_status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        var line = new StringBuilder()
            .Append(Terminal.Dim(Format.Time(body.GetProperty("at")).PadRight(8))).Append("  ")
            .Append(Text(body, "kind").PadRight(8)).Append("  ")
            .Append(Terminal.Status(status, 9)).Append("  ")
            .Append(Text(wire.GetProperty("app"), "name").PadRight(16)).Append("  ")
            .Append(name.PadRight(20));
        if (body.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Object)
        {
            // The stored JSON's key order is PostgreSQL's; the well-known metrics come first, in a fixed order.
            foreach (var metric in metrics.EnumerateObject().OrderBy(m => Array.IndexOf(MetricOrder, m.Name) is var i && i >= 0 ? i : MetricOrder.Length))
                line.Append("  ").Append(metric.Name).Append('=').Append(metric.Value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture));
        }
        if (body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            line.Append("  ").Append(Terminal.Red(error.GetString()!));
        return line.ToString().TrimEnd();
    }

    private static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";
}
