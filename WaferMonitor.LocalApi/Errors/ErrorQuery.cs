using WaferMonitor.LocalApi.Queries;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.LocalApi.Errors;

/// <summary>The validated parameters of <c>GET /v1/errors</c>.</summary>
public sealed record ErrorQuery(
    DateTimeOffset From, DateTimeOffset To, string? App, IReadOnlySet<string> Statuses, bool IncludeSynthetic, int Limit)
{
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static (ErrorQuery? Query, string? Error) Parse(IQueryCollection query, DateTimeOffset now)
    {
        try
        {
            var to = QueryParameters.Time(query, "to") ?? now;
            var from = QueryParameters.Time(query, "from") ?? to - DefaultRange;
            if (from >= to)
                throw new FormatException("from must be before to");
            if (to - from > MaxRange)
                throw new FormatException($"from..to is longer than {MaxRange.TotalDays:0} days");
            var statuses = query["status"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            foreach (var status in statuses)
            {
                if (!ErrorGroupStatuses.All.Contains(status))
                    throw new FormatException($"status '{status}' is not one of {string.Join(", ", ErrorGroupStatuses.All)}");
            }
            return (new ErrorQuery(from, to, QueryParameters.Text(query, "app"), statuses, QueryParameters.IncludeSynthetic(query), QueryParameters.Limit(query, DefaultLimit, MaxLimit)), null);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }
}
