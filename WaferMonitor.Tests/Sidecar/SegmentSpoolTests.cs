using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WaferMonitor.Sidecar;
using WaferMonitor.Sidecar.Spool;
using WaferMonitor.Tests.Infrastructure;

namespace WaferMonitor.Tests.Sidecar;

/// <summary>The spool's files, on a real file system: torn tails, checkpoints, capacity.</summary>
public sealed class SegmentSpoolTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "wm-spool-" + Guid.NewGuid().ToString("N")[..8]);

    private SegmentSpool Open(long maxBytes = 64 * 1024 * 1024, long segmentBytes = 64 * 1024) => SegmentSpool.Open(
        Options.Create(new SpoolOptions { Directory = directory, MaxBytes = maxBytes, SegmentBytes = segmentBytes }),
        NullLogger<SegmentSpool>.Instance);

    private static SpoolRecord Record(int i) =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(i), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));

    private static async Task<List<string>> ReadAllAsync(SegmentSpool spool)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var read = new List<string>();
        while (spool.Status.Events > read.Count)
        {
            var batch = await spool.ReadBatchAsync(1000, 1 << 30, TimeSpan.Zero, timeout.Token);
            read.AddRange(batch.Records.Select(r => Encoding.UTF8.GetString(r.EventJson)));
        }
        return read;
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_earlier_records_survive()
    {
        await using (var spool = Open())
            await spool.AppendAsync(Enumerable.Range(0, 50).Select(Record).ToList(), CancellationToken.None);
        var segment = Directory.GetFiles(directory, "*.seg").Order().First(f => new FileInfo(f).Length > 0);
        await using (var file = new FileStream(segment, FileMode.Open))
            file.SetLength(file.Length - 3);

        await using (var reopened = Open())
        {
            Assert.Equal(49, reopened.Status.Events);
            Assert.Equal(Enumerable.Range(0, 49).Select(i => $"{{\"n\":{i}}}"), await ReadAllAsync(reopened));
        }
    }

    [Fact]
    public async Task A_garbled_last_record_is_cut_by_its_checksum()
    {
        await using (var spool = Open())
            await spool.AppendAsync(Enumerable.Range(0, 10).Select(Record).ToList(), CancellationToken.None);
        var segment = Directory.GetFiles(directory, "*.seg").Order().First(f => new FileInfo(f).Length > 0);
        await using (var file = new FileStream(segment, FileMode.Open))
        {
            file.Position = file.Length - 2;
            file.WriteByte((byte)'X');
        }
        await using var reopened = Open();
        Assert.Equal(9, reopened.Status.Events);
        Assert.Equal(9, (await ReadAllAsync(reopened)).Count);
    }

    [Fact]
    public async Task Committed_records_are_not_read_again_after_a_restart_and_segments_are_deleted()
    {
        await using (var spool = Open(segmentBytes: 64 * 1024))
        {
            foreach (var chunk in Enumerable.Range(0, 3000).Select(Record).Chunk(100))
                await spool.AppendAsync(chunk, CancellationToken.None);
            Assert.True(spool.Status.Segments > 1);
            var batch = await spool.ReadBatchAsync(2000, 1 << 30, TimeSpan.Zero, CancellationToken.None);
            spool.Commit(batch.End, batch.Records.Count);
            Assert.Equal(1000, spool.Status.Events);
        }
        await using var reopened = Open();
        Assert.Equal(1000, reopened.Status.Events);
        var rest = await ReadAllAsync(reopened);
        Assert.Equal("{\"n\":2000}", rest[0]);
        Assert.Equal(1000, rest.Count);
    }

    [Fact]
    public async Task Appends_beyond_capacity_are_refused_whole()
    {
        await using var spool = Open(maxBytes: 8 * 1024);
        await spool.AppendAsync(Enumerable.Range(0, 50).Select(Record).ToList(), CancellationToken.None);
        var before = spool.Status;
        await Assert.ThrowsAsync<SpoolFullException>(() => spool.AppendAsync(Enumerable.Range(0, 200).Select(Record).ToList(), CancellationToken.None));
        Assert.Equal(before.Events, spool.Status.Events);
        Assert.Equal(before.Bytes, spool.Status.Bytes);
    }

    public void Dispose() => FabFixture.TryDelete(directory);
}
