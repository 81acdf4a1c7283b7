using System.ComponentModel.DataAnnotations;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Integrations;

/// <summary>
/// Bound from <c>Integrations</c>: the outbound integrations, each a named entry under its kind
/// (<c>Integrations:Webhooks:&lt;name&gt;:Url</c>…), and the delivery loop's settings they share.
/// </summary>
public sealed class IntegrationsOptions : IValidatableObject
{
    public const string SectionName = "Integrations";

    /// <summary>How often an integration that has caught up looks for newly stored events.</summary>
    public Duration PollInterval { get; set; } = Duration.FromSeconds(1);

    /// <summary>Events read from the event table per query.</summary>
    [Range(1, 100_000)]
    public int PageSize { get; set; } = 500;

    /// <summary>The first wait after a failed delivery; each further failure doubles it (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    public Duration RetryFirstDelay { get; set; } = Duration.FromSeconds(1);

    public Duration RetryMaxDelay { get; set; } = Duration.FromMinutes(1);

    /// <summary>How long one HTTP request to a webhook, Elasticsearch or Loki may take before it counts as failed.</summary>
    public Duration RequestTimeout { get; set; } = Duration.FromSeconds(30);

    public Dictionary<string, WebhookIntegrationOptions> Webhooks { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, FileExportOptions> Files { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ZabbixIntegrationOptions> Zabbix { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ElasticsearchIntegrationOptions> Elasticsearch { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, LokiIntegrationOptions> Loki { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every configured integration with its configuration path (<c>Webhooks:ops</c>), enabled or not.</summary>
    public IEnumerable<(string Path, IntegrationOptions Options)> All() =>
        Webhooks.Select(p => ($"{nameof(Webhooks)}:{p.Key}", (IntegrationOptions)p.Value))
            .Concat(Files.Select(p => ($"{nameof(Files)}:{p.Key}", (IntegrationOptions)p.Value)))
            .Concat(Zabbix.Select(p => ($"{nameof(Zabbix)}:{p.Key}", (IntegrationOptions)p.Value)))
            .Concat(Elasticsearch.Select(p => ($"{nameof(Elasticsearch)}:{p.Key}", (IntegrationOptions)p.Value)))
            .Concat(Loki.Select(p => ($"{nameof(Loki)}:{p.Key}", (IntegrationOptions)p.Value)));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { (nameof(PollInterval), PollInterval), (nameof(RetryFirstDelay), RetryFirstDelay), (nameof(RetryMaxDelay), RetryMaxDelay), (nameof(RequestTimeout), RequestTimeout) })
        {
            if (value.Value <= TimeSpan.Zero)
                yield return new ValidationResult("must be a positive duration", [name]);
        }
        if (RetryMaxDelay.Value < RetryFirstDelay.Value)
            yield return new ValidationResult("must not be shorter than RetryFirstDelay", [nameof(RetryMaxDelay)]);
        foreach (var (path, integration) in All())
        {
            foreach (var (key, problem) in integration.Problems())
                yield return new ValidationResult(problem, [$"{path}:{key}"]);
        }
    }
}

/// <summary>What every integration has: which stored events it delivers, and where a new one starts.</summary>
public abstract class IntegrationOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Comma-separated app-name globs (<c>*</c>, <c>?</c>); empty means every app.</summary>
    public string Apps { get; set; } = "";

    /// <summary>Comma-separated terminal statuses (<c>succeeded</c>, <c>failed</c>, <c>canceled</c>); empty means all three.</summary>
    public string Statuses { get; set; } = "";

    /// <summary>Comma-separated entity types: <c>job</c>, <c>subjob</c>.</summary>
    public string EntityTypes { get; set; } = "job,subjob";

    /// <summary>
    /// True delivers the synthetic checks' jobs (<see cref="SyntheticChecks.CanaryApp"/>) too, e.g. to watch the canary
    /// from outside; they are left out otherwise, whatever <see cref="Apps"/> says.
    /// </summary>
    public bool IncludeSynthetic { get; set; }

    /// <summary>Where an integration without a stored cursor starts: <c>latest</c> (events stored from now on) or <c>earliest</c>.</summary>
    public string StartAt { get; set; } = "latest";

    internal IEnumerable<(string Key, string Problem)> Problems()
    {
        foreach (var status in IntegrationFilter.Split(Statuses))
        {
            if (status is not (EntityStatuses.Succeeded or EntityStatuses.Failed or EntityStatuses.Canceled))
                yield return (nameof(Statuses), $"'{status}' is not a terminal status (succeeded, failed, canceled)");
        }
        var types = IntegrationFilter.Split(EntityTypes);
        if (types.Count == 0)
            yield return (nameof(EntityTypes), "must name job, subjob or both");
        foreach (var type in types)
        {
            if (type is not (Sdk.Contracts.EntityTypes.Job or Sdk.Contracts.EntityTypes.Subjob))
                yield return (nameof(EntityTypes), $"'{type}' is not an entity type (job, subjob)");
        }
        if (StartAt is not ("latest" or "earliest"))
            yield return (nameof(StartAt), $"'{StartAt}' is neither latest nor earliest");
        foreach (var problem in KindProblems())
            yield return problem;
    }

    private protected abstract IEnumerable<(string Key, string Problem)> KindProblems();

    private protected static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>An integration that talks HTTP: the receiver's URL and any headers it needs (an API key, a tenant).</summary>
public abstract class HttpIntegrationOptions : IntegrationOptions
{
    public string Url { get; set; } = "";

    /// <summary>Sent with every request, e.g. <c>Headers:Authorization</c>.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    private protected override IEnumerable<(string Key, string Problem)> KindProblems()
    {
        if (!IsHttpUrl(Url))
            yield return (nameof(Url), $"'{Url}' is not an absolute http(s) URL");
    }
}

/// <summary>Each terminal event POSTed as one JSON document to <see cref="HttpIntegrationOptions.Url"/>.</summary>
public sealed class WebhookIntegrationOptions : HttpIntegrationOptions;

/// <summary>Terminal events appended to a CSV or JSON-lines file per UTC day in <see cref="Directory"/>.</summary>
public sealed class FileExportOptions : IntegrationOptions
{
    public string Directory { get; set; } = "";

    /// <summary><c>csv</c> or <c>jsonl</c>.</summary>
    public string Format { get; set; } = "jsonl";

    private protected override IEnumerable<(string Key, string Problem)> KindProblems()
    {
        if (string.IsNullOrWhiteSpace(Directory))
            yield return (nameof(Directory), "must name the directory the files are written to");
        if (Format is not ("csv" or "jsonl"))
            yield return (nameof(Format), $"'{Format}' is neither csv nor jsonl");
    }
}

/// <summary>Job counts, failures and last duration per app, sent to a Zabbix server or proxy with the trapper (sender) protocol.</summary>
public sealed class ZabbixIntegrationOptions : IntegrationOptions
{
    public ZabbixIntegrationOptions() => EntityTypes = Sdk.Contracts.EntityTypes.Job;

    /// <summary>The Zabbix server or proxy's host name or address.</summary>
    public string Server { get; set; } = "";

    public int Port { get; set; } = 10051;

    /// <summary>The host in Zabbix that holds the trapper items (its "Host name", not its visible name).</summary>
    public string Host { get; set; } = "";

    /// <summary>Items are <c>&lt;prefix&gt;.jobs.finished[&lt;app&gt;]</c>, <c>.jobs.failed[…]</c> and <c>.jobs.last_duration[…]</c>.</summary>
    public string KeyPrefix { get; set; } = "wafermonitor";

    public Duration Timeout { get; set; } = Duration.FromSeconds(10);

    private protected override IEnumerable<(string Key, string Problem)> KindProblems()
    {
        if (string.IsNullOrWhiteSpace(Server))
            yield return (nameof(Server), "must name the Zabbix server or proxy");
        if (Port is < 1 or > 65535)
            yield return (nameof(Port), $"{Port} is not a TCP port");
        if (string.IsNullOrWhiteSpace(Host))
            yield return (nameof(Host), "must name the Zabbix host that holds the trapper items");
        if (string.IsNullOrWhiteSpace(KeyPrefix))
            yield return (nameof(KeyPrefix), "must not be empty");
        if (Timeout.Value <= TimeSpan.Zero)
            yield return (nameof(Timeout), "must be a positive duration");
    }
}

/// <summary>One document per terminal event through the Elasticsearch/OpenSearch <c>_bulk</c> API, with the event's idempotency key as <c>_id</c>.</summary>
public sealed class ElasticsearchIntegrationOptions : HttpIntegrationOptions
{
    public string Index { get; set; } = "wafermonitor-events";

    private protected override IEnumerable<(string Key, string Problem)> KindProblems()
    {
        foreach (var problem in base.KindProblems())
            yield return problem;
        if (string.IsNullOrWhiteSpace(Index) || Index != Index.ToLowerInvariant())
            yield return (nameof(Index), $"'{Index}' is not an index name (lower case, not empty)");
    }
}

/// <summary>One log line per terminal event through Loki's push API (<c>/loki/api/v1/push</c> under <see cref="HttpIntegrationOptions.Url"/>).</summary>
public sealed class LokiIntegrationOptions : HttpIntegrationOptions;
