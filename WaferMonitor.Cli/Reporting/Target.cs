using WaferMonitor.Sdk.Client;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.Cli.Reporting;

/// <summary>Where events go and what they describe: the sidecar, the site, the application and the job or subjob.</summary>
internal sealed record Target(Uri SidecarUrl, string Site, AppRef App, EntityRef Entity)
{
    /// <summary>
    /// A job (<paramref name="key"/> required) or, with <paramref name="parent"/>, a subjob (<paramref name="subKey"/>
    /// required). <paramref name="id"/> is the entity's id when it continues one that <c>start</c> printed.
    /// </summary>
    public static Target Create(string? sidecar, string site, string app, string? key, string? subKey, Guid? parent, Guid? id = null)
    {
        var entityId = id ?? Guid.CreateVersion7();
        EntityRef entity;
        if (parent is { } parentId)
        {
            if (string.IsNullOrEmpty(subKey) && id is null)
                throw new UsageException("--parent needs --sub-key: a subjob is named by its sub key (for example wafer-07)");
            entity = new EntityRef(EntityTypes.Subjob, entityId, parentId, NullIfEmpty(key), NullIfEmpty(subKey));
        }
        else
        {
            if (!string.IsNullOrEmpty(subKey))
                throw new UsageException("--sub-key needs --parent <job id>: only a subjob has a sub key");
            if (string.IsNullOrEmpty(key) && id is null)
                throw new UsageException("--key is required: the job's business key (for example LOT-42)");
            entity = new EntityRef(EntityTypes.Job, entityId, BusinessKey: NullIfEmpty(key));
        }
        return new Target(SidecarUrlFrom(sidecar), site, new AppRef(MonitorOptions.DeriveAppId(app), app, ""), entity);
    }

    /// <summary>As the v2 SDK: <c>--sidecar</c>, else <c>SIDECAR_URL</c>, else http://localhost:8000.</summary>
    private static Uri SidecarUrlFrom(string? option)
    {
        var text = !string.IsNullOrWhiteSpace(option) ? option
            : Environment.GetEnvironmentVariable(MonitorOptions.SidecarUrlVariable) is { Length: > 0 } variable ? variable
            : MonitorOptions.DefaultSidecarUrl;
        return Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new UsageException($"sidecar URL '{text}' is not an absolute http(s) URL (from --sidecar or SIDECAR_URL)");
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
