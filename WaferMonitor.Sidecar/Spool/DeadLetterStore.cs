using System.Text;
using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>
/// Events LocalApi refused, one JSON line each with the reason (<c>dead-letters.jsonl</c> in the spool directory), kept
/// until an operator fixes the cause and replays them.
/// </summary>
public sealed class DeadLetterStore(SegmentSpool spool, TimeProvider clock)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private string FilePath => Path.Combine(spool.DirectoryPath, "dead-letters.jsonl");
    private string ReplayingPath => Path.Combine(spool.DirectoryPath, "dead-letters.replaying.jsonl");

    public async Task AddAsync(IEnumerable<(SpoolRecord Record, string Code, string Error)> letters, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        foreach (var (record, code, error) in letters)
        {
            text.Append(Serialize(new DeadLetter(clock.GetUtcNow(), code, error, record.ReceivedAt, record.TraceParent, null, null), record.EventJson))
                .Append('\n');
        }
        if (text.Length == 0)
            return;
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            long count = 0;
            foreach (var path in new[] { FilePath, ReplayingPath }.Where(File.Exists))
                count += File.ReadLines(path).LongCount(line => line.Length > 0);
            return count;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Puts every dead letter back into the spool. The file is renamed first so a crash mid-replay re-queues the same
    /// letters again rather than losing them (LocalApi deduplicates what it already took).
    /// </summary>
    public async Task<int> ReplayAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(FilePath))
            {
                if (File.Exists(ReplayingPath))
                    await File.AppendAllTextAsync(ReplayingPath, await File.ReadAllTextAsync(FilePath, cancellationToken), cancellationToken);
                else
                    File.Move(FilePath, ReplayingPath);
                File.Delete(FilePath);
            }
            if (!File.Exists(ReplayingPath))
                return 0;
            var records = new List<SpoolRecord>();
            foreach (var line in await File.ReadAllLinesAsync(ReplayingPath, cancellationToken))
            {
                if (line.Length == 0)
                    continue;
                var letter = JsonSerializer.Deserialize<DeadLetter>(line, WireJson.Options)!;
                var eventJson = letter.EventBase64 is { } base64 ? Convert.FromBase64String(base64) : Encoding.UTF8.GetBytes(letter.Event!.Value.GetRawText());
                records.Add(new SpoolRecord(letter.ReceivedAt, letter.TraceParent, eventJson));
            }
            await spool.AppendAsync(records, cancellationToken);
            File.Delete(ReplayingPath);
            return records.Count;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The letter with its event as JSON, or as base64 when the event's bytes are not JSON that can be written again (a
    /// spool from before the edge refused such events may hold invalid UTF-8): a dead letter must never fail to be kept.
    /// </summary>
    private static string Serialize(DeadLetter letter, byte[] eventJson)
    {
        try
        {
            return JsonSerializer.Serialize(letter with { Event = JsonElement.Parse(eventJson) }, WireJson.Options);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            return JsonSerializer.Serialize(letter with { EventBase64 = Convert.ToBase64String(eventJson) }, WireJson.Options);
        }
    }

    private sealed record DeadLetter(
        DateTimeOffset DeadLetteredAt, string Code, string Error, DateTimeOffset ReceivedAt, string? TraceParent, JsonElement? Event,
        string? EventBase64);
}
