using System.Text.Json;
using Npgsql;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>One episode of an alert as the evaluator and the notifier track it (a row of the <c>alert</c> table).</summary>
internal sealed record TrackedAlert(
    long Id, string Fingerprint, string Rule, string Severity, string? App, IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations, string State, DateTimeOffset ActiveAt, DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt, DateTimeOffset? LastNotifiedAt)
{
    public const string Pending = "pending";
    public const string Firing = "firing";
    public const string Resolved = "resolved";

    public static readonly string[] States = [Pending, Firing, Resolved];

    /// <summary>Due for Alertmanager: fired or resolved since last sent, or firing and not sent for a cooldown.</summary>
    public bool IsDue(DateTimeOffset now, TimeSpan cooldown) => State switch
    {
        Firing => LastNotifiedAt is not { } sent || sent < FiredAt || now - sent >= cooldown,
        Resolved => LastNotifiedAt is not { } sent || sent < ResolvedAt,
        _ => false,
    };
}

/// <summary>
/// The open alerts (pending and firing) and the resolved ones not yet sent: what the evaluator compares each round with and
/// what the notifier sends. Loaded from the <c>alert</c> table once the database answers, so a restart continues where it
/// stopped; the <c>database_unreachable</c> alert lives here only until the database is back.
/// </summary>
internal sealed class AlertBook
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, TrackedAlert> open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrackedAlert> unsentResolved = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim changed = new(0, 1);

    public bool Loaded { get; private set; }

    public async Task LoadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT {Columns} FROM alert WHERE state <> 'resolved'
            UNION ALL
            SELECT {Columns} FROM alert WHERE state = 'resolved' AND (last_notified_at IS NULL OR last_notified_at < resolved_at)
                AND resolved_at > now() - interval '1 day'
            """, connection);
        var loaded = new List<TrackedAlert>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                loaded.Add(Read(reader));
        }
        lock (gate)
        {
            foreach (var alert in loaded)
            {
                // The database_unreachable alert may have fired while the book was still empty.
                if (alert.State == TrackedAlert.Resolved)
                    unsentResolved[alert.Fingerprint] = alert;
                else
                    open.TryAdd(alert.Fingerprint, alert);
            }
            Loaded = true;
        }
    }

    public const string Columns =
        "alert_id, fingerprint, rule, severity, app, labels::text, annotations::text, state, active_at, fired_at, resolved_at, last_notified_at";

    public static TrackedAlert Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4),
        JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(5))!, JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(6))!,
        r.GetString(7), r.GetFieldValue<DateTimeOffset>(8), Time(r, 9), Time(r, 10), Time(r, 11));

    private static DateTimeOffset? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    public List<TrackedAlert> Open()
    {
        lock (gate)
            return [.. open.Values];
    }

    /// <summary>Applies a round's outcome (already stored), and wakes the notifier when something fired or resolved.</summary>
    public void Apply(IEnumerable<TrackedAlert> opened, IEnumerable<TrackedAlert> closed, bool announce)
    {
        lock (gate)
        {
            foreach (var alert in closed)
            {
                open.Remove(alert.Fingerprint);
                if (alert.State == TrackedAlert.Resolved)
                    unsentResolved[alert.Fingerprint] = alert;
            }
            foreach (var alert in opened)
                open[alert.Fingerprint] = alert;
        }
        if (announce)
            Wake();
    }

    public void Wake()
    {
        if (changed.CurrentCount == 0)
        {
            try
            {
                changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken) => changed.WaitAsync(timeout, cancellationToken);

    public List<TrackedAlert> Due(DateTimeOffset now, TimeSpan cooldown)
    {
        lock (gate)
            return [.. open.Values.Where(a => a.IsDue(now, cooldown)), .. unsentResolved.Values];
    }

    /// <summary>Records that these alerts (as they were when sent) reached Alertmanager.</summary>
    public void Notified(IEnumerable<TrackedAlert> sent, DateTimeOffset at)
    {
        lock (gate)
        {
            foreach (var alert in sent)
            {
                if (alert.State == TrackedAlert.Resolved)
                {
                    // Unless the fingerprint fired and resolved again meanwhile: that episode is still to be sent.
                    if (unsentResolved.TryGetValue(alert.Fingerprint, out var resolved) && resolved.Id == alert.Id)
                        unsentResolved.Remove(alert.Fingerprint);
                }
                else if (open.TryGetValue(alert.Fingerprint, out var current) && current.Id == alert.Id)
                    open[alert.Fingerprint] = current with { LastNotifiedAt = at };
            }
        }
    }

    public Dictionary<(string Rule, string Severity), int> FiringCounts()
    {
        lock (gate)
        {
            return open.Values.Where(a => a.State == TrackedAlert.Firing)
                .GroupBy(a => (a.Rule, a.Severity)).ToDictionary(g => g.Key, g => g.Count());
        }
    }
}
