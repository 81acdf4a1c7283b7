using System.ComponentModel.DataAnnotations;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>Bound from <c>Alerts</c> (docs/alerts.md).</summary>
public sealed class AlertsOptions : IValidatableObject
{
    public const string SectionName = "Alerts";

    /// <summary>When false, no rule is evaluated and nothing is sent; <c>/v1/alerts</c> still shows the history.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often every rule is evaluated against the site database.</summary>
    public Duration EvaluationInterval { get; set; } = Duration.FromSeconds(15);

    /// <summary>
    /// v2's <c>cooldown_minutes</c>: a firing alert is sent to Alertmanager again after this long (new and resolved alerts
    /// are sent at once). Set Alertmanager's <c>repeat_interval</c> to the same value or a multiple of it.
    /// </summary>
    public Duration Cooldown { get; set; } = Duration.FromMinutes(10);

    /// <summary>Alertmanager base URLs (every member of a cluster); empty means alerts are evaluated and recorded only.</summary>
    public string[] AlertmanagerUrls { get; set; } = [];

    /// <summary>Longest wait between delivery attempts while every Alertmanager fails.</summary>
    public Duration MaxBackoff { get; set; } = Duration.FromMinutes(1);

    /// <summary>This LocalApi's URL as operators reach it, for the <c>link</c> annotation; its own listening URL when unset.</summary>
    [Url]
    public string? PublicUrl { get; set; }

    /// <summary>At most this many alerts per rule and round (the rest wait for the next round): a bound on a flood.</summary>
    [Range(1, 1_000_000)]
    public int MaxAlertsPerRule { get; set; } = 20_000;

    /// <summary>Default rules' settings and custom rules, by rule name.</summary>
    public Dictionary<string, AlertRuleOptions> Rules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per app name glob (<c>litho-*</c>), per rule name: that rule's threshold for the matching apps.</summary>
    public Dictionary<string, Dictionary<string, string>> Apps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A JSON file with an <c>Alerts</c> section (rules, per-app thresholds, any other key of it) layered over the
    /// service's other settings: rules kept apart from the deployment, or one file for every site.
    /// </summary>
    public string? RulesFile { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EvaluationInterval.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(EvaluationInterval)]);
        if (Cooldown.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(Cooldown)]);
        if (MaxBackoff.Value <= TimeSpan.Zero)
            yield return new ValidationResult("must be positive", [nameof(MaxBackoff)]);
        for (var i = 0; i < AlertmanagerUrls.Length; i++)
        {
            if (!Uri.TryCreate(AlertmanagerUrls[i], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                yield return new ValidationResult($"'{AlertmanagerUrls[i]}' is not an http(s) URL", [$"{nameof(AlertmanagerUrls)}:{i}"]);
        }
        if (RulesFile is not null && AlertsExtensions.RulesFileProblem(RulesFile) is { } problem)
            yield return new ValidationResult(problem, [nameof(RulesFile)]);
        var (_, errors) = AlertRuleSet.Build(this);
        foreach (var (key, error) in errors)
            yield return new ValidationResult(error, [key]);
    }
}

/// <summary>
/// One rule under <c>Alerts:Rules:&lt;name&gt;</c>: for a default rule name, any field overrides its default; any other
/// name is a custom rule and needs a <see cref="Kind"/>.
/// </summary>
public sealed class AlertRuleOptions
{
    /// <summary>
    /// <c>metric_above</c>, <c>metric_below</c>, <c>failure_rate</c>, <c>running_longer_than</c>, <c>silent_for</c>,
    /// <c>error_matching</c>, <c>new_error_group</c>, <c>regressed_error_group</c>.
    /// </summary>
    public string? Kind { get; set; }

    public bool? Enabled { get; set; }

    /// <summary><c>info</c>, <c>warning</c> or <c>critical</c>.</summary>
    public string? Severity { get; set; }

    /// <summary>How long the condition must hold before the alert fires (pending until then).</summary>
    public Duration? For { get; set; }

    /// <summary>A number (rates 0–1, metric values) or a duration (<c>1h</c>) depending on the kind.</summary>
    public string? Threshold { get; set; }

    /// <summary>Jobs that ended (or error groups seen) this long ago or less count (failure_rate, metric_*, error_matching, *_error_group).</summary>
    public Duration? Window { get; set; }

    /// <summary>failure_rate: fewest ended jobs in the window for a rate to count.</summary>
    public int? MinJobs { get; set; }

    /// <summary>metric_*: any metric name events carry, e.g. <c>duration_s</c>, <c>mem_max_mb</c> or an app's own.</summary>
    public string? Metric { get; set; }

    /// <summary>App name glob (<c>*</c>, <c>?</c>).</summary>
    public string? App { get; set; }

    /// <summary>Business key (lot) regular expression.</summary>
    public string? BusinessKey { get; set; }

    /// <summary><c>job</c>, <c>subjob</c> or <c>any</c>.</summary>
    public string? EntityType { get; set; }

    /// <summary>error_matching: regular expression matched against <c>metadata.error_type</c> and <c>metadata.error</c>.</summary>
    public string? Pattern { get; set; }

    /// <summary>Labels added to every alert of the rule.</summary>
    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The summary annotation, with <c>{app}</c>, <c>{business_key}</c>, <c>{sub_key}</c>, <c>{job_id}</c>, <c>{value}</c>, <c>{threshold}</c>, <c>{site}</c>.</summary>
    public string? Summary { get; set; }
}
