using System.Buffers.Text;
using System.Text.Json;

namespace WaferMonitor.CentralApi.Queries;

/// <summary>
/// The cursor of a merged listing: for each site, the site's own cursor after the last item taken from it, null when
/// nothing was taken yet, or <c>done</c> when the site has nothing more — as base64url JSON
/// <c>{"fab1": "&lt;site cursor&gt;", "fab2": "done"}</c>. A site missing from it (added since) starts from its newest row.
/// </summary>
internal static class MergedCursor
{
    public const string Done = "done";

    public static string Encode(IReadOnlyDictionary<string, string?> positions) =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(positions));

    /// <exception cref="FormatException">The text is not a cursor this API issued.</exception>
    public static Dictionary<string, string?> Decode(string? cursor)
    {
        var positions = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(cursor))
            return positions;
        try
        {
            var decoded = JsonSerializer.Deserialize<Dictionary<string, string?>>(Base64Url.DecodeFromChars(cursor));
            foreach (var (site, position) in decoded ?? throw new FormatException())
                positions[site] = position;
            return positions;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new FormatException("cursor is not a cursor this API issued", ex);
        }
    }
}
