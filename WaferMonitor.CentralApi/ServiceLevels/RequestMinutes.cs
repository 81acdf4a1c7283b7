using WaferMonitor.ServiceDefaults.ServiceLevels;

namespace WaferMonitor.CentralApi.ServiceLevels;

/// <summary>
/// Requests per minute — all, answered 5xx, slower than the latency threshold — in memory, over a rolling window: a ring
/// of one slot per minute of the window and one more (43 201 for 30 days, about 1.4 MB), each slot taken over by a new
/// minute once its own has left the window. Nothing is kept across a restart.
/// </summary>
internal sealed class RequestMinutes
{
    private readonly TimeSpan window;
    private readonly long[] minuteOf;
    private readonly long[] requests;
    private readonly long[] errors;
    private readonly long[] slow;
    private readonly Lock gate = new();

    public RequestMinutes(TimeSpan window)
    {
        this.window = window;
        var slots = (int)Math.Ceiling(window.TotalMinutes) + 1;
        minuteOf = new long[slots];
        Array.Fill(minuteOf, long.MinValue);
        requests = new long[slots];
        errors = new long[slots];
        slow = new long[slots];
    }

    public void Record(DateTimeOffset at, bool error, bool isSlow)
    {
        var minute = at.ToUnixTimeSeconds() / 60;
        var slot = (int)(minute % minuteOf.Length);
        lock (gate)
        {
            if (minuteOf[slot] != minute)
            {
                minuteOf[slot] = minute;
                requests[slot] = errors[slot] = slow[slot] = 0;
            }
            requests[slot]++;
            if (error)
                errors[slot]++;
            if (isSlow)
                slow[slot]++;
        }
    }

    /// <summary>
    /// The window counts (<see cref="SlaCalculator.Windows"/>: each minute counted by its start) of requests not answered
    /// 5xx, and of requests not slower than the threshold.
    /// </summary>
    public (Dictionary<string, WindowCount> Answered, Dictionary<string, WindowCount> Fast) Windows(DateTimeOffset now)
    {
        var answered = new List<SlaSample>();
        var fast = new List<SlaSample>();
        lock (gate)
        {
            for (var slot = 0; slot < minuteOf.Length; slot++)
            {
                if (minuteOf[slot] == long.MinValue)
                    continue;
                var at = DateTimeOffset.FromUnixTimeSeconds(minuteOf[slot] * 60);
                answered.Add(new SlaSample(at, requests[slot] - errors[slot], requests[slot]));
                fast.Add(new SlaSample(at, requests[slot] - slow[slot], requests[slot]));
            }
        }
        return (SlaCalculator.Windows(answered, now, window), SlaCalculator.Windows(fast, now, window));
    }
}
