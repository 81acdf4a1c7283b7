using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Streaming;

/// <summary>Bound from <c>Stream</c>: the live event stream of <c>GET /v1/stream</c>.</summary>
public sealed class StreamOptions : IValidatableObject
{
    public const string SectionName = "Stream";

    /// <summary>A comment is sent after this long without a message, so proxies and clients see a live connection.</summary>
    public Duration HeartbeatInterval { get; set; } = Duration.FromSeconds(15);

    /// <summary>How many recent events the process keeps in memory; a <c>Last-Event-ID</c> older than them gets a reset.</summary>
    [Range(1, 1_000_000)]
    public int ReplayWindow { get; set; } = 10_000;

    /// <summary>
    /// Events queued for one client. Messages are shared between clients, so a slot costs a reference; it should exceed
    /// the largest ingest batch (10 000 events by default) so that a burst alone never drops a healthy client.
    /// </summary>
    [Range(1, 1_000_000)]
    public int ClientQueueCapacity { get; set; } = 10_000;

    /// <summary>How long one write to a client may block before the client is disconnected.</summary>
    public Duration WriteTimeout { get; set; } = Duration.FromSeconds(10);

    /// <summary>Rows read from the event table per query while catching up.</summary>
    [Range(1, 100_000)]
    public int PageSize { get; set; } = 1_000;

    /// <summary>Longest wait between attempts to re-establish the database listener.</summary>
    public Duration ReconnectMaxBackoff { get; set; } = Duration.FromSeconds(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[]
        {
            (nameof(HeartbeatInterval), HeartbeatInterval), (nameof(WriteTimeout), WriteTimeout), (nameof(ReconnectMaxBackoff), ReconnectMaxBackoff),
        })
        {
            if (value.Value <= TimeSpan.Zero)
                yield return new ValidationResult("must be a positive duration", [name]);
        }
    }
}
