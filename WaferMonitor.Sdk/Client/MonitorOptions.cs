using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Sdk.Client;

/// <summary>
/// Settings of a <see cref="MonitorClient"/>. The client copies them when it is created, so changing an instance
/// afterwards has no effect on a running client.
/// </summary>
public sealed class MonitorOptions
{
    public const string SectionName = "WaferMonitor";
    public const string SidecarUrlVariable = "SIDECAR_URL";
    public const string DefaultSidecarUrl = "http://localhost:8000";

    /// <summary>Base URL of the sidecar; defaults to <c>SIDECAR_URL</c>, else <c>http://localhost:8000</c> (as v2).</summary>
    public Uri SidecarUrl { get; set; } = new(Environment.GetEnvironmentVariable(SidecarUrlVariable) is { Length: > 0 } url ? url : DefaultSidecarUrl);

    /// <summary>Site used by <see cref="MonitorClient.StartJob(string, object?)"/>.</summary>
    public string? SiteId { get; set; }

    /// <summary>
    /// The ingest key sent as <c>Authorization: Bearer</c>: needed only by a Sidecar that listens beyond loopback
    /// (<c>WaferMonitor:ApiKey</c>, else <c>SIDECAR_API_KEY</c>).
    /// </summary>
    public string? ApiKey { get; set; } = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null;

    public const string ApiKeyVariable = "SIDECAR_API_KEY";

    /// <summary>Application reported with every event; when null, derived from the entry assembly.</summary>
    public AppRef? App { get; set; }

    /// <summary>Events held in memory while the sidecar is slow or unreachable; beyond it events are dropped.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Events per request; the sidecar accepts at most 10 000.</summary>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>How long events may wait in the queue before the background task sends them.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First delay after a failed send; it doubles per attempt up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound on how long disposal waits for queued events to reach the sidecar.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the working set is sampled for <c>mem_max_mb</c>.</summary>
    public TimeSpan MemorySampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether each scope starts an <see cref="System.Diagnostics.Activity"/> of source <c>WaferMonitor.Sdk</c>.</summary>
    public bool StartActivities { get; set; } = true;

    internal const int MaxBatchBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Reads the <c>WaferMonitor</c> section; <c>WaferMonitor:SidecarUrl</c> wins over <c>SIDECAR_URL</c>.
    /// Durations accept <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c> or a .NET TimeSpan such as <c>00:00:05</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value cannot be read; the message names the key.</exception>
    public static MonitorOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        var options = new MonitorOptions();

        var url = NonEmpty(section["SidecarUrl"]) ?? NonEmpty(configuration[SidecarUrlVariable]);
        if (url is not null)
            options.SidecarUrl = Uri.TryCreate(url, UriKind.Absolute, out var parsed)
                ? parsed
                : throw Invalid($"{SectionName}:SidecarUrl", url, "is not an absolute URL");

        options.SiteId = NonEmpty(section["SiteId"]) ?? options.SiteId;
        options.ApiKey = NonEmpty(section["ApiKey"]) ?? NonEmpty(configuration[ApiKeyVariable]) ?? options.ApiKey;

        var appName = NonEmpty(section["App:Name"]);
        if (appName is not null)
        {
            var idText = NonEmpty(section["App:Id"]);
            var appId = idText is null ? DeriveAppId(appName)
                : Guid.TryParse(idText, out var id) ? id : throw Invalid($"{SectionName}:App:Id", idText, "is not a UUID");
            options.App = new AppRef(appId, appName, section["App:Version"] ?? "");
        }

        options.QueueCapacity = ReadInt(section, nameof(QueueCapacity)) ?? options.QueueCapacity;
        options.MaxBatchSize = ReadInt(section, nameof(MaxBatchSize)) ?? options.MaxBatchSize;
        options.FlushInterval = ReadDuration(section, nameof(FlushInterval)) ?? options.FlushInterval;
        options.RequestTimeout = ReadDuration(section, nameof(RequestTimeout)) ?? options.RequestTimeout;
        options.RetryInitialDelay = ReadDuration(section, nameof(RetryInitialDelay)) ?? options.RetryInitialDelay;
        options.RetryMaxDelay = ReadDuration(section, nameof(RetryMaxDelay)) ?? options.RetryMaxDelay;
        options.ShutdownTimeout = ReadDuration(section, nameof(ShutdownTimeout)) ?? options.ShutdownTimeout;
        options.MemorySampleInterval = ReadDuration(section, nameof(MemorySampleInterval)) ?? options.MemorySampleInterval;
        if (NonEmpty(section[nameof(StartActivities)]) is { } startActivities)
            options.StartActivities = bool.TryParse(startActivities, out var flag)
                ? flag
                : throw Invalid($"{SectionName}:{nameof(StartActivities)}", startActivities, "is not true or false");
        return options;
    }

    /// <summary>
    /// A stable id for an application name, so one app keeps its <c>app_id</c> across restarts and hosts without
    /// anyone having to configure a UUID.
    /// </summary>
    public static Guid DeriveAppId(string appName)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("wafermonitor-app:" + appName));
        var bytes = hash.AsSpan(0, 16);
        // RFC 9562 version 8 (custom) with the RFC variant, so the result is a well-formed UUID.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    internal MonitorOptions Snapshot()
    {
        var copy = (MonitorOptions)MemberwiseClone();
        copy.App ??= DefaultApp();
        return copy;
    }

    internal void Validate()
    {
        if (!SidecarUrl.IsAbsoluteUri || (SidecarUrl.Scheme != Uri.UriSchemeHttp && SidecarUrl.Scheme != Uri.UriSchemeHttps))
            throw Invalid($"{SectionName}:SidecarUrl", SidecarUrl.ToString(), "must be an absolute http(s) URL");
        if (QueueCapacity < 1)
            throw Invalid($"{SectionName}:{nameof(QueueCapacity)}", QueueCapacity, "must be at least 1");
        if (MaxBatchSize is < 1 or > 10_000)
            throw Invalid($"{SectionName}:{nameof(MaxBatchSize)}", MaxBatchSize, "must be between 1 and 10000 (the sidecar's batch limit)");
        RequirePositive(FlushInterval, nameof(FlushInterval));
        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(RetryInitialDelay, nameof(RetryInitialDelay));
        RequirePositive(MemorySampleInterval, nameof(MemorySampleInterval));
        if (RetryMaxDelay < RetryInitialDelay)
            throw Invalid($"{SectionName}:{nameof(RetryMaxDelay)}", RetryMaxDelay, "must not be shorter than RetryInitialDelay");
        RequireAtMostADay(RetryMaxDelay, nameof(RetryMaxDelay));
        if (ShutdownTimeout < TimeSpan.Zero)
            throw Invalid($"{SectionName}:{nameof(ShutdownTimeout)}", ShutdownTimeout, "must not be negative");
        RequireAtMostADay(ShutdownTimeout, nameof(ShutdownTimeout));
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
            throw Invalid($"{SectionName}:{name}", value, "must be positive");
        RequireAtMostADay(value, name);
    }

    /// <summary>Timers cannot wait much beyond 49 days; a day is already far beyond any sensible setting.</summary>
    private static void RequireAtMostADay(TimeSpan value, string name)
    {
        if (value > TimeSpan.FromDays(1))
            throw Invalid($"{SectionName}:{name}", value, "must not exceed one day");
    }

    private static AppRef DefaultApp()
    {
        var entry = Assembly.GetEntryAssembly();
        var name = entry?.GetName().Name ?? "unknown-app";
        var version = entry?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? entry?.GetName().Version?.ToString()
            ?? "";
        return new AppRef(DeriveAppId(name), name, version);
    }

    private static int? ReadInt(IConfiguration section, string name)
    {
        var text = NonEmpty(section[name]);
        if (text is null)
            return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid($"{SectionName}:{name}", text, "is not an integer");
    }

    private static TimeSpan? ReadDuration(IConfiguration section, string name)
    {
        var text = NonEmpty(section[name]);
        if (text is null)
            return null;
        return TryParseDuration(text, out var value)
            ? value
            : throw Invalid($"{SectionName}:{name}", text, "is not a duration (500ms, 5s, 2m, 1h or 00:00:05)");
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        text = text.Trim();
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, ms) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number))
            {
                value = TimeSpan.FromMilliseconds(number * ms);
                return true;
            }
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static InvalidOperationException Invalid(string key, object value, string problem) =>
        new($"{key} '{value}' {problem}.");
}
