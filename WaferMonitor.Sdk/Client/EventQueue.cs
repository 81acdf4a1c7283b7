using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>An event serialized on the caller's thread, so later changes to the caller's objects cannot alter it.</summary>
internal sealed record QueuedEvent(long Sequence, string Kind, string IdempotencyKey, byte[] Json)
{
    /// <summary>Progress and metric events only refine a scope; losing one never leaves a job looking wrong.</summary>
    public bool IsExpendable => Kind is EventKinds.Progress or EventKinds.Metric;
}

/// <summary>
/// Bounded queue plus the one batch being sent. When full, the oldest progress/metric event makes room; when
/// there is none, an incoming progress/metric event is refused; only then does the oldest event of any kind go.
/// Two FIFOs (expendable and essential) keep each of those choices O(1); batches merge them back in order.
/// </summary>
internal sealed class EventQueue(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<QueuedEvent> _essential = new();
    private readonly Queue<QueuedEvent> _expendable = new();
    private IReadOnlyList<QueuedEvent> _inFlight = [];
    private long _lastSequence;
    private bool _closed;
    private TaskCompletionSource _changed = NewSignal();

    public int Count
    {
        get
        {
            lock (_gate)
                return _essential.Count + _expendable.Count + _inFlight.Count;
        }
    }

    /// <summary>True after <see cref="RemoveAll"/>: the client is shutting down and refuses new events.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_gate)
                return _closed;
        }
    }

    /// <summary>Sequence number of the most recent event offered, dropped or not.</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
                return _lastSequence;
        }
    }

    /// <summary>Completes at the next change that can resolve a flush: a batch done, an event dropped.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
                return _changed.Task;
        }
    }

    /// <summary>Adds an event; returns the event dropped to stay within capacity (possibly the new one), else null.</summary>
    public QueuedEvent? Enqueue(string kind, string idempotencyKey, byte[] json, out int queued)
    {
        lock (_gate)
        {
            var item = new QueuedEvent(++_lastSequence, kind, idempotencyKey, json);
            QueuedEvent? dropped = null;
            if (_closed)
                dropped = item;
            else if (_essential.Count + _expendable.Count >= capacity)
            {
                if (_expendable.Count > 0)
                    dropped = _expendable.Dequeue();
                else if (item.IsExpendable)
                    dropped = item;
                else
                    dropped = _essential.Dequeue();
            }
            if (!ReferenceEquals(dropped, item))
                (item.IsExpendable ? _expendable : _essential).Enqueue(item);
            queued = _essential.Count + _expendable.Count;
            if (dropped is not null)
                PulseLocked();
            return dropped;
        }
    }

    /// <summary>
    /// Moves the oldest events (at most <paramref name="maxCount"/> and, beyond the first, <paramref name="maxBytes"/>)
    /// into flight. Empty when nothing is queued or a batch is already in flight.
    /// </summary>
    public IReadOnlyList<QueuedEvent> TakeBatch(int maxCount, int maxBytes)
    {
        lock (_gate)
        {
            if (_inFlight.Count > 0)
                return [];
            var batch = new List<QueuedEvent>(Math.Min(maxCount, _essential.Count + _expendable.Count));
            long bytes = 0;
            while (batch.Count < maxCount && Oldest() is { } next)
            {
                if (batch.Count > 0 && bytes + next.Json.Length + 1 > maxBytes)
                    break;
                bytes += next.Json.Length + 1;
                batch.Add(next.IsExpendable ? _expendable.Dequeue() : _essential.Dequeue());
            }
            _inFlight = batch;
            return batch;
        }
    }

    /// <summary>Marks the in-flight batch as resolved (sent, rejected or dropped).</summary>
    public void CompleteBatch()
    {
        lock (_gate)
        {
            _inFlight = [];
            PulseLocked();
        }
    }

    /// <summary>True when every event up to <paramref name="sequence"/> has left the queue and the flight.</summary>
    public bool IsResolvedThrough(long sequence)
    {
        lock (_gate)
        {
            if (_inFlight.Count > 0 && _inFlight[0].Sequence <= sequence)
                return false;
            return Oldest() is not { } oldest || oldest.Sequence > sequence;
        }
    }

    /// <summary>Empties and closes the queue, returning what was in it and in flight (for counting as dropped).</summary>
    public IReadOnlyList<QueuedEvent> RemoveAll()
    {
        lock (_gate)
        {
            var all = new List<QueuedEvent>(_inFlight);
            all.AddRange(_essential);
            all.AddRange(_expendable);
            _essential.Clear();
            _expendable.Clear();
            _inFlight = [];
            _closed = true;
            PulseLocked();
            return all;
        }
    }

    private QueuedEvent? Oldest()
    {
        _essential.TryPeek(out var essential);
        _expendable.TryPeek(out var expendable);
        if (essential is null)
            return expendable;
        if (expendable is null)
            return essential;
        return essential.Sequence < expendable.Sequence ? essential : expendable;
    }

    private void PulseLocked()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
