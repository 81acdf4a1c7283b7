using System.Diagnostics.Metrics;
using WaferMonitor.ServiceDefaults.Metrics;

namespace WaferMonitor.LocalApi.Alerts;

/// <summary><c>alerts_firing</c>, <c>alert_evaluation_duration_seconds</c>, <c>alert_notifications_total</c>.</summary>
internal sealed class AlertsMetrics
{
    private readonly Histogram<double> evaluationDuration;
    private readonly Counter<long> notifications;
    private volatile Dictionary<(string Rule, string Severity), int> firing = [];

    public AlertsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("WaferMonitor.LocalApi.Alerts");
        meter.CreateObservableGauge("alerts_firing", () => firing.Select(f =>
                new Measurement<int>(f.Value, new("rule", f.Key.Rule), new("severity", f.Key.Severity))),
            description: "Alerts firing now, by rule and severity.");
        evaluationDuration = meter.CreateHistogram<double>("alert_evaluation_duration_seconds", unit: "s",
            description: "Time one evaluation round of every alert rule took.", tags: null, advice: DurationBuckets.Seconds);
        notifications = meter.CreateCounter<long>("alert_notifications_total",
            description: "Requests to Alertmanager's POST /api/v2/alerts, by outcome (sent, failed).");
    }

    public void Firing(Dictionary<(string Rule, string Severity), int> counts) => firing = counts;

    public void Evaluated(TimeSpan elapsed) => evaluationDuration.Record(elapsed.TotalSeconds);

    public void Notification(bool sent) => notifications.Add(1, new KeyValuePair<string, object?>("outcome", sent ? "sent" : "failed"));
}
