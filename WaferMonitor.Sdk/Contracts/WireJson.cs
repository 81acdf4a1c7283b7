using System.Text.Json;
using System.Text.Json.Serialization;

namespace WaferMonitor.Sdk.Contracts;

/// <summary>The one JSON style of the product: snake_case names, as the v2 wire format.</summary>
public static class WireJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies the wire style to options owned by a host (ASP.NET Core's JSON options).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.Strict;
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
