using System.Text;
using System.Text.Json;
using WaferMonitor.Archiver.Parquet;
using WaferMonitor.Archiver.Parquet.Archive;

namespace WaferMonitor.Tests.Parquet;

/// <summary>Seeded random rows that hit the edge cases a Parquet writer gets wrong: nulls, "", multi-byte UTF-8, extreme times.</summary>
internal sealed class ArchiveSamples(int seed)
{
    public static readonly DateTimeOffset MinTimestamp = DateTimeOffset.MinValue;

    // The largest DateTimeOffset that survives truncation to whole microseconds unchanged.
    public static readonly DateTimeOffset MaxTimestamp = new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990);

    private static readonly string[] Texts =
    [
        "", "fab1", "wafer-07", "é", "日本語のテキスト", "emoji 🚀👩‍🔬 mixed ü", "quote ' \" \\ and \t tab", "line\nbreak",
        "Ωmega", new string('x', 300), "ends with space ",
    ];

    private static readonly DateTimeOffset[] ExtremeTimes =
    [
        MinTimestamp, MaxTimestamp, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddTicks(-10),
        new(2026, 11, 22, 8, 0, 0, 123, TimeSpan.Zero),
    ];

    private readonly Random _random = new(seed);

    public bool Chance(double p) => _random.NextDouble() < p;

    public int Next(int max) => _random.Next(max);

    public string Text()
    {
        if (Chance(0.6))
        {
            return Texts[_random.Next(Texts.Length)];
        }
        var builder = new StringBuilder();
        var length = _random.Next(0, 20);
        for (var i = 0; i < length; i++)
        {
            builder.Append(_random.Next(4) switch
            {
                0 => ((char)_random.Next('a', 'z' + 1)).ToString(),
                1 => ((char)_random.Next(0xE0, 0x17F)).ToString(),
                2 => ((char)_random.Next(0x4E00, 0x4FFF)).ToString(),
                _ => "😀🧪🔬".Substring(_random.Next(3) * 2, 2),
            });
        }
        return builder.ToString();
    }

    public string? MaybeText(double nullChance = 0.25) => Chance(nullChance) ? null : Text();

    public Guid Uuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        return new Guid(bytes);
    }

    public Guid? MaybeUuid() => Chance(0.25) ? null : Uuid();

    public DateTimeOffset Time()
    {
        if (Chance(0.1))
        {
            return ExtremeTimes[_random.Next(ExtremeTimes.Length)];
        }
        var micros = _random.NextInt64(-2_000_000_000_000_000, 4_000_000_000_000_000);
        return DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
    }

    public DateTimeOffset? MaybeTime() => Chance(0.25) ? null : Time();

    public double Number() => _random.Next(5) switch
    {
        0 => 0,
        1 => -_random.NextDouble() * 1e6,
        2 => _random.Next(10_000),
        _ => _random.NextDouble() * 1e-3,
    };

    public double? MaybeNumber() => Chance(0.25) ? null : Number();

    public string? MaybeJson() => Chance(0.25) ? null : Json();

    public string Json() => _random.Next(4) switch
    {
        0 => "{}",
        1 => JsonSerializer.Serialize(new Dictionary<string, object> { ["cpu_user_s"] = Number(), ["note"] = Text() }),
        2 => "[1,2,{\"é\":\"日本\"}]",
        _ => JsonSerializer.Serialize(new Dictionary<string, string> { ["k" + _random.Next(100)] = Text() }),
    };

    public List<ArchivedEvent> Events(int count)
    {
        var apps = Enumerable.Range(0, 3).Select(_ => (Id: Uuid(), Name: Text(), Version: "2." + Next(5) + ".0")).ToArray();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return Enumerable.Range(0, count).Select(i =>
        {
            var app = apps[Next(apps.Length)];
            return new ArchivedEvent(
                Seq: i + 1,
                IngestedAt: start.AddSeconds(i),
                IdempotencyKey: Chance(0.05) ? "" : Uuid().ToString() + Text(),
                SiteId: Chance(0.5) ? "fab1" : "fab-é",
                AppId: app.Id,
                AppName: app.Name,
                AppVersion: app.Version,
                EntityType: Chance(0.5) ? "job" : "subjob",
                EntityId: Uuid(),
                ParentId: MaybeUuid(),
                BusinessKey: MaybeText(),
                SubKey: MaybeText(),
                Kind: new[] { "started", "progress", "metric", "finished", "error", "canceled" }[Next(6)],
                At: Time(),
                Status: Chance(0.3) ? null : new[] { "running", "succeeded", "failed", "canceled" }[Next(4)],
                Metrics: MaybeJson(),
                Metadata: MaybeJson());
        }).ToList();
    }

    public List<ArchivedJob> Jobs(int count) => Enumerable.Range(0, count).Select(_ => new ArchivedJob(
        Uuid(), Chance(0.5) ? "fab1" : "", Uuid(), Text(), "1.0", MaybeText(), Chance(0.5) ? "running" : "failed",
        Time(), MaybeTime(), MaybeNumber(), MaybeNumber(), MaybeNumber(), MaybeNumber(), MaybeJson(), Time(), Time())).ToList();

    public List<ArchivedSubjob> Subjobs(int count) => Enumerable.Range(0, count).Select(_ => new ArchivedSubjob(
        Uuid(), Uuid(), "fab1", Uuid(), Text(), MaybeText(), Chance(0.5) ? "succeeded" : "canceled",
        Time(), MaybeTime(), MaybeNumber(), MaybeNumber(), MaybeNumber(), MaybeNumber(), MaybeJson(), Time(), Time())).ToList();

    public static async Task<byte[]> WriteAsync<TRow>(ArchiveTable<TRow> table, IEnumerable<TRow> rows, ParquetWriteOptions options)
    {
        using var stream = new MemoryStream();
        using var writer = new ParquetArchiveFormat(options).CreateWriter(table, stream);
        foreach (var row in rows)
        {
            await writer.WriteAsync(row);
        }
        await writer.CompleteAsync();
        return stream.ToArray();
    }
}
