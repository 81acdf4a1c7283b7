using System.Threading.Channels;

namespace WaferMonitor.LocalApi.Streaming;

/// <summary>
/// One client's view of the feed: the replayed backlog, then live events through a bounded queue. The feed never waits
/// for a client: when the queue is full the client is dropped, not the event.
/// </summary>
internal sealed class StreamSubscription : IDisposable
{
    private readonly EventFeed feed;
    private readonly Channel<FeedEvent> queue;
    private readonly CancellationTokenSource dropped = new();

    public StreamSubscription(EventFeed feed, StreamFilter filter, long after, IReadOnlyList<FeedEvent> backlog, int capacity)
    {
        this.feed = feed;
        Filter = filter;
        After = after;
        Backlog = backlog;
        queue = Channel.CreateBounded<FeedEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public StreamFilter Filter { get; }

    /// <summary>Only events with a greater seq are for this client (what it has already seen, or "now").</summary>
    public long After { get; }

    /// <summary>Events from the replay window the client missed, in seq order.</summary>
    public IReadOnlyList<FeedEvent> Backlog { get; }

    public ChannelReader<FeedEvent> Reader => queue.Reader;

    /// <summary>Cancelled when the feed drops this client; the writer then disconnects it.</summary>
    public CancellationToken Dropped => dropped.Token;

    /// <summary>Called by the feed under its lock; false means the queue is full.</summary>
    internal bool TryOffer(FeedEvent e) => e.Seq <= After || !Filter.Matches(e) || queue.Writer.TryWrite(e);

    internal void MarkDropped() => dropped.Cancel();

    // The token source is not disposed: the feed may still cancel it after the client left, and it holds no timer.
    public void Dispose() => feed.Unsubscribe(this);
}
