using System.Buffers.Text;
using System.Globalization;
using System.Text;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Queries;

/// <summary>The validated filters of <c>/v1/jobs</c> and <c>/v1/subjobs</c>; any bad parameter is reported by name.</summary>
public sealed record ListQuery(
    DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<string> Statuses, string? AppName, string? BusinessKey,
    Guid? JobId, int Limit, long? Before, bool IncludeSynthetic = false)
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    public static (ListQuery? Query, string? Error) Parse(IQueryCollection query)
    {
        try
        {
            var statuses = query["status"].ToString()
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var status in statuses)
            {
                if (!EntityStatuses.All.Contains(status))
                    throw new FormatException($"status '{status}' is not one of {string.Join(", ", EntityStatuses.All)}");
            }
            return (new ListQuery(
                QueryParameters.Time(query, "from"), QueryParameters.Time(query, "to"), statuses,
                QueryParameters.Text(query, "app_name"), QueryParameters.Text(query, "business_key"),
                QueryParameters.Uuid(query, "job_id"), LimitOf(query), Cursor.Decode(QueryParameters.Text(query, "cursor")),
                QueryParameters.IncludeSynthetic(query)), null);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }

    private static int LimitOf(IQueryCollection query)
    {
        var text = QueryParameters.Text(query, "limit");
        if (text is null)
            return DefaultLimit;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit)
            return limit;
        throw new FormatException($"limit '{text}' must be a whole number from 1 to {MaxLimit}");
    }
}

/// <summary>Query-string readers that report a bad value by parameter name (as <see cref="FormatException"/>).</summary>
public static class QueryParameters
{
    /// <summary>Longest text filter: no name or key the ingest accepts is longer.</summary>
    public const int MaxTextLength = IngestLimits.MaxNameLength;

    /// <summary>Times a query may name: what ingest stores (events from 1970) with room for arithmetic at the far end.</summary>
    public static readonly DateTimeOffset EarliestTime = EventParser.EarliestTimestamp;
    public static readonly DateTimeOffset LatestTime = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string? Text(IQueryCollection query, string name)
    {
        var value = query[name].ToString();
        if (string.IsNullOrEmpty(value))
            return null;
        if (value.Length > MaxTextLength)
            throw new FormatException($"{name} is longer than {MaxTextLength} characters");
        // PostgreSQL stores no NUL in text, so %00 matches nothing and would fail the query.
        if (value.Contains('\0'))
            throw new FormatException($"{name} holds a NUL character (%00)");
        return value;
    }

    public static DateTimeOffset? Time(IQueryCollection query, string name)
    {
        var text = Text(query, name);
        if (text is null)
            return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            return value >= EarliestTime && value < LatestTime
                ? value
                : throw new FormatException($"{name} '{text}' must be from {EarliestTime:yyyy-MM-dd} to before {LatestTime:yyyy-MM-dd}");
        }
        throw new FormatException($"{name} '{text}' is not an ISO 8601 timestamp");
    }

    /// <summary><c>include_synthetic=true</c> brings the synthetic checks' jobs (<see cref="SyntheticChecks.CanaryApp"/>) back into an answer.</summary>
    public static bool IncludeSynthetic(IQueryCollection query) =>
        Text(query, SyntheticChecks.IncludeParameter) switch
        {
            null or "false" => false,
            "true" => true,
            var other => throw new FormatException($"{SyntheticChecks.IncludeParameter} '{other}' is not true or false"),
        };

    public static int Limit(IQueryCollection query, int defaultLimit, int maxLimit)
    {
        var text = Text(query, "limit");
        if (text is null)
            return defaultLimit;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= maxLimit)
            return limit;
        throw new FormatException($"limit '{text}' must be a whole number from 1 to {maxLimit}");
    }

    public static Guid? Uuid(IQueryCollection query, string name)
    {
        var text = Text(query, name);
        if (text is null)
            return null;
        return Guid.TryParse(text, out var id) ? id : throw new FormatException($"{name} '{text}' is not a UUID");
    }
}

/// <summary>Opaque keyset cursor over the immutable server-assigned store order.</summary>
public static class Cursor
{
    private const string Prefix = "s1:";

    public static string Encode(long storeSeq) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + storeSeq.ToString(CultureInfo.InvariantCulture)));

    public static long? Decode(string? cursor)
    {
        if (cursor is null)
            return null;
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith(Prefix, StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
                return seq;
        }
        catch (FormatException)
        {
        }
        throw new FormatException("cursor is not a cursor this API issued");
    }
}
