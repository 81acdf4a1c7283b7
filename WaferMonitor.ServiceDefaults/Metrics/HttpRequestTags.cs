using System.Globalization;

namespace WaferMonitor.ServiceDefaults.Metrics;

/// <summary>The method, route and status of one <c>http.server.request.duration</c> measurement, from its tags.</summary>
public readonly record struct HttpRequestTags(string Method, string Route, int Status)
{
    public static HttpRequestTags Read(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string method = "", route = "";
        var status = 0;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "http.request.method":
                    method = tag.Value as string ?? "";
                    break;
                case "http.route":
                    route = tag.Value as string ?? "";
                    break;
                case "http.response.status_code":
                    status = Convert.ToInt32(tag.Value, CultureInfo.InvariantCulture);
                    break;
            }
        }
        return new HttpRequestTags(method, route, status);
    }
}
