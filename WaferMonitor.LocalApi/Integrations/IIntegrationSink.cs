namespace WaferMonitor.LocalApi.Integrations;

/// <summary>Where an integration delivers: a webhook, files, Zabbix, Elasticsearch, Loki.</summary>
internal interface IIntegrationSink
{
    /// <summary>Events per <see cref="DeliverAsync"/> call at most; the cursor moves after each acknowledged call.</summary>
    int MaxBatch { get; }

    /// <summary>Returns once the sink has acknowledged every event; throws when it has not (the call is retried).</summary>
    Task DeliverAsync(IReadOnlyList<IntegrationEvent> events, CancellationToken cancellationToken);
}
