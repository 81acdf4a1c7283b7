using System.Globalization;
using System.Text.RegularExpressions;
using WaferMonitor.Sdk.Contracts;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary>The rule kinds: what a rule looks at. Those in <see cref="Custom"/> may be used by custom rules.</summary>
public static class AlertKinds
{
    public const string MetricAbove = "metric_above";
    public const string MetricBelow = "metric_below";
    public const string FailureRate = "failure_rate";
    public const string RunningLongerThan = "running_longer_than";
    public const string SilentFor = "silent_for";
    public const string ErrorMatching = "error_matching";
    public const string NoJobsReceived = "no_jobs_received";
    public const string SpoolBacklog = "spool_backlog";
    public const string SidecarSilent = "sidecar_silent";
    public const string DatabaseUnreachable = "database_unreachable";
    public const string NewErrorGroup = "new_error_group";
    public const string RegressedErrorGroup = "regressed_error_group";

    public static readonly string[] Custom =
        [MetricAbove, MetricBelow, FailureRate, RunningLongerThan, SilentFor, ErrorMatching, NewErrorGroup, RegressedErrorGroup];

    /// <summary>Kinds that need no threshold (regressed_error_group's quiet period defaults to a day).</summary>
    public static bool ThresholdIsOptional(string kind) => kind is ErrorMatching or NewErrorGroup or RegressedErrorGroup;

    /// <summary>Kinds whose threshold is a duration (shown and configured as such, evaluated in seconds).</summary>
    public static bool ThresholdIsDuration(string kind) =>
        kind is RunningLongerThan or SilentFor or SidecarSilent or NoJobsReceived or RegressedErrorGroup;
}

public static class AlertSeverities
{
    public static readonly string[] All = ["info", "warning", "critical"];
}

/// <summary>A per-app threshold: apps whose name matches <see cref="Glob"/> use <see cref="Value"/>.</summary>
public sealed record AppThreshold(string Glob, double Value, Regex Matcher);

/// <summary>An effective rule, as <c>GET /v1/alert-rules</c> shows it.</summary>
public sealed record AlertRule(
    string Name, string Kind, bool IsDefault, bool Enabled, string Severity, TimeSpan For, double? Threshold, TimeSpan Window,
    int MinJobs, string? Metric, string? App, string? BusinessKey, string EntityType, string? Pattern,
    IReadOnlyDictionary<string, string> Labels, string Summary, IReadOnlyList<AppThreshold> AppThresholds)
{
    /// <summary>The threshold for one app: its first matching glob's (most specific first), else the rule's.</summary>
    public double? ThresholdFor(string app) => AppThresholds.FirstOrDefault(t => t.Matcher.IsMatch(app))?.Value ?? Threshold;

    /// <summary>The lowest threshold any app can have: what SQL pre-filters with before each app's own is applied.</summary>
    public double? LowestThreshold => AppThresholds.Select(t => (double?)t.Value).Append(Threshold).Min();

    public double? HighestThreshold => AppThresholds.Select(t => (double?)t.Value).Append(Threshold).Max();

    /// <summary>Whether the rule looks at <paramref name="app"/>: never the synthetic checks' app, whose health is the SLA's business.</summary>
    public bool MatchesApp(string app) => app != SyntheticChecks.CanaryApp && (App is null || AlertRuleSet.Glob(App).IsMatch(app));

    public string FormatThreshold(double? value) =>
        value is not { } v ? "learned"
        : AlertKinds.ThresholdIsDuration(Kind) ? AlertText.Duration(TimeSpan.FromSeconds(v))
        : Kind == AlertKinds.FailureRate ? v.ToString("0.#%", CultureInfo.InvariantCulture)
        : v.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>The default rules, merged with <c>Alerts:Rules</c> and <c>Alerts:Apps</c>; every problem named by its key.</summary>
public sealed partial class AlertRuleSet(IReadOnlyList<AlertRule> rules)
{
    /// <summary>The metrics a job and subjob row keeps; any other name is read from the entity's deciding (terminal) event.</summary>
    public static readonly string[] ProjectedMetrics = ["duration_s", "cpu_user_s", "cpu_system_s", "mem_max_mb"];

    /// <summary>regressed_error_group's quiet period when the rule sets no threshold: Errors:RegressionAfter's default.</summary>
    public static readonly TimeSpan DefaultRegressionQuiet = TimeSpan.FromHours(24);

    private static readonly string[] EntityTypes = ["job", "subjob", "any"];

    public IReadOnlyList<AlertRule> All { get; } = rules;
    public IEnumerable<AlertRule> Enabled => All.Where(r => r.Enabled);

    private static AlertRule Default(string name, string kind, string severity, double? threshold, string summary,
        TimeSpan? @for = null, TimeSpan? window = null, int minJobs = 0, string? metric = null, string entityType = "job") =>
        new(name, kind, IsDefault: true, Enabled: true, severity, @for ?? TimeSpan.Zero, threshold, window ?? TimeSpan.FromMinutes(15),
            minJobs, metric, App: null, BusinessKey: null, entityType, Pattern: null, new Dictionary<string, string>(), summary, []);

    /// <summary>The rules that are on when nothing is configured (the seeds' six, and the site's own health).</summary>
    public static IReadOnlyList<AlertRule> Defaults { get; } =
    [
        Default("high_failure_rate", AlertKinds.FailureRate, "critical", 0.10,
            "{app}: {value} of the {count} jobs that ended in the last {window} failed (threshold {threshold})", minJobs: 5),
        Default("long_running_job", AlertKinds.RunningLongerThan, "warning", TimeSpan.FromHours(1).TotalSeconds,
            "{app} job {business_key} has been running for {value} (threshold {threshold})"),
        Default("stalled_job", AlertKinds.SilentFor, "warning", TimeSpan.FromMinutes(10).TotalSeconds,
            "{app} job {business_key} is running but has sent no event for {value} (threshold {threshold})"),
        Default("high_memory", AlertKinds.MetricAbove, "warning", 8192,
            "{app} {entity} {business_key} {sub_key} used {value} MB of memory (threshold {threshold} MB)", metric: "mem_max_mb", entityType: "any"),
        Default("no_jobs_received", AlertKinds.NoJobsReceived, "warning", null,
            "{app} has started no job for {value} (expected every {threshold})", minJobs: 5),
        Default("ingestion_lag", AlertKinds.SpoolBacklog, "warning", 100,
            "Sidecar {node} holds {value} events in its spool (threshold {threshold})", @for: TimeSpan.FromMinutes(5)),
        Default("sidecar_silent", AlertKinds.SidecarSilent, "critical", TimeSpan.FromMinutes(2).TotalSeconds,
            "Sidecar {node} has not been heard from for {value} (threshold {threshold})"),
        Default("database_unreachable", AlertKinds.DatabaseUnreachable, "critical", null,
            "LocalApi of site {site} cannot reach its database: {value}"),
    ];

    public static (AlertRuleSet Rules, List<(string Key, string Error)> Errors) Build(AlertsOptions options)
    {
        var errors = new List<(string, string)>();
        var rules = Defaults.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var (name, configured) in options.Rules)
        {
            var key = $"Rules:{name}";
            var error = Merge(name, configured, rules);
            if (error is not null)
                errors.Add((key, error));
        }
        var perApp = new Dictionary<string, List<AppThreshold>>(StringComparer.Ordinal);
        foreach (var (glob, thresholds) in options.Apps)
        {
            foreach (var (ruleName, text) in thresholds)
            {
                var key = $"Apps:{glob}:{ruleName}";
                if (!rules.TryGetValue(ruleName, out var rule))
                    errors.Add((key, $"no rule '{ruleName}'"));
                else if (ParseThreshold(rule.Kind, text) is not { } value)
                    errors.Add((key, ThresholdError(rule.Kind, text)));
                else
                    (perApp.TryGetValue(ruleName, out var list) ? list : perApp[ruleName] = []).Add(new AppThreshold(glob, value, Glob(glob)));
            }
        }
        foreach (var (ruleName, list) in perApp)
        {
            // The most specific glob first: the longest literal text.
            rules[ruleName] = rules[ruleName] with
            {
                AppThresholds = [.. list.OrderByDescending(t => t.Glob.Count(c => c is not ('*' or '?'))).ThenBy(t => t.Glob, StringComparer.Ordinal)],
            };
        }
        return (new AlertRuleSet([.. rules.Values.OrderBy(r => !r.IsDefault).ThenBy(r => r.Name, StringComparer.Ordinal)]), errors);
    }

    private static string? Merge(string name, AlertRuleOptions o, Dictionary<string, AlertRule> rules)
    {
        if (!RuleName().IsMatch(name))
            return "a rule name is lower-case letters, digits and '_' (it becomes the alertname label)";
        AlertRule rule;
        if (rules.TryGetValue(name, out var existing))
        {
            if (o.Kind is not null && o.Kind != existing.Kind)
                return $"Kind '{o.Kind}' cannot change a default rule (it is {existing.Kind}); give the rule another name";
            rule = existing;
        }
        else
        {
            if (o.Kind is null)
                return $"no default rule '{name}'; a custom rule needs a Kind ({string.Join(", ", AlertKinds.Custom)})";
            if (!AlertKinds.Custom.Contains(o.Kind))
                return $"Kind '{o.Kind}' is not one of {string.Join(", ", AlertKinds.Custom)}";
            if (o.Threshold is null && !AlertKinds.ThresholdIsOptional(o.Kind))
                return "Threshold is required";
            rule = new AlertRule(name, o.Kind, IsDefault: false, Enabled: true, "warning", TimeSpan.Zero,
                o.Kind == AlertKinds.RegressedErrorGroup ? DefaultRegressionQuiet.TotalSeconds : null, TimeSpan.FromMinutes(15),
                MinJobs: o.Kind == AlertKinds.FailureRate ? 5 : 0, Metric: null, App: null, BusinessKey: null, EntityType: "job", Pattern: null,
                new Dictionary<string, string>(), o.Kind switch
                {
                    AlertKinds.NewErrorGroup => $"{name}: {{app}} has a new error group: {{title}} ({{count}} in the last {{window}})",
                    AlertKinds.RegressedErrorGroup => $"{name}: {{app}} error group is back after {{value}} without an occurrence: {{title}} (threshold {{threshold}})",
                    _ => $"{name}: {{app}} {{entity}} {{business_key}} {{sub_key}} {{value}} (threshold {{threshold}})",
                }, []);
        }
        if (o.Severity is not null && !AlertSeverities.All.Contains(o.Severity))
            return $"Severity '{o.Severity}' is not one of {string.Join(", ", AlertSeverities.All)}";
        if (o.For is { } @for && @for.Value < TimeSpan.Zero)
            return "For must not be negative";
        if (o.Window is { } window && window.Value <= TimeSpan.Zero)
            return "Window must be positive";
        if (o.MinJobs is < 1)
            return "MinJobs must be at least 1";
        double? threshold = rule.Threshold;
        if (o.Threshold is not null)
        {
            threshold = ParseThreshold(rule.Kind, o.Threshold);
            if (threshold is null)
                return ThresholdError(rule.Kind, o.Threshold);
        }
        var metric = o.Metric ?? rule.Metric;
        if (rule.Kind is AlertKinds.MetricAbove or AlertKinds.MetricBelow && string.IsNullOrWhiteSpace(metric))
            return $"Metric is required for {rule.Kind}";
        var entityType = o.EntityType ?? rule.EntityType;
        if (!EntityTypes.Contains(entityType))
            return $"EntityType '{entityType}' is not one of {string.Join(", ", EntityTypes)}";
        if (o.BusinessKey is not null && !IsRegex(o.BusinessKey))
            return $"BusinessKey '{o.BusinessKey}' is not a regular expression";
        var pattern = o.Pattern ?? rule.Pattern;
        if (rule.Kind == AlertKinds.ErrorMatching && (pattern is null || !IsRegex(pattern)))
            return pattern is null ? "Pattern is required for error_matching" : $"Pattern '{pattern}' is not a regular expression";
        foreach (var label in o.Labels.Keys)
        {
            if (!LabelName().IsMatch(label) || AlertLabels.Reserved.Contains(label))
                return $"label '{label}' is not a free label name (letters, digits, '_'; not {string.Join(", ", AlertLabels.Reserved)})";
        }
        rules[name] = rule with
        {
            Enabled = o.Enabled ?? rule.Enabled,
            Severity = o.Severity ?? rule.Severity,
            For = o.For?.Value ?? rule.For,
            Threshold = threshold,
            Window = o.Window?.Value ?? rule.Window,
            MinJobs = o.MinJobs ?? rule.MinJobs,
            Metric = metric,
            App = o.App ?? rule.App,
            BusinessKey = o.BusinessKey ?? rule.BusinessKey,
            EntityType = entityType,
            Pattern = pattern,
            Labels = o.Labels.Count > 0 ? new Dictionary<string, string>(o.Labels, StringComparer.Ordinal) : rule.Labels,
            Summary = o.Summary ?? rule.Summary,
        };
        return null;
    }

    private static double? ParseThreshold(string kind, string text)
    {
        if (kind == AlertKinds.DatabaseUnreachable)
            return null;
        if (AlertKinds.ThresholdIsDuration(kind))
        {
            try
            {
                var duration = Duration.Parse(text).Value;
                return duration > TimeSpan.Zero ? duration.TotalSeconds : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        var percent = text.EndsWith('%');
        if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            return null;
        if (percent)
            value /= 100;
        return kind == AlertKinds.FailureRate && value is < 0 or > 1 ? null : value;
    }

    private static string ThresholdError(string kind, string text) =>
        kind == AlertKinds.DatabaseUnreachable ? "database_unreachable has no threshold"
        : AlertKinds.ThresholdIsDuration(kind) ? $"Threshold '{text}' is not a positive duration such as '1h' or '90s'"
        : kind == AlertKinds.FailureRate ? $"Threshold '{text}' is not a rate from 0 to 1 (or 0% to 100%)"
        : $"Threshold '{text}' is not a number";

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>An app name glob: <c>*</c> any run of characters, <c>?</c> one; everything else literal.</summary>
    public static Regex Glob(string glob) =>
        new("^" + Regex.Escape(glob).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex RuleName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex LabelName();
}
