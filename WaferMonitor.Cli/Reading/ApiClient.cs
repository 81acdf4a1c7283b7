using System.Net.Http.Headers;
using System.Text.Json;

namespace WaferMonitor.Cli.Reading;

/// <summary>A request to LocalApi failed; the message is the one line the user sees.</summary>
internal sealed class ApiException(string message) : Exception(message);

/// <summary>
/// Reads a site's LocalApi: <c>--api</c>, else <c>WAFERMONITOR_API</c>, with the read token from <c>--token</c>, else
/// <c>WAFERMONITOR_TOKEN</c> (none for a site that allows anonymous reads).
/// </summary>
internal sealed class ApiClient : IDisposable
{
    public const string ApiUrlVariable = "WAFERMONITOR_API";
    public const string TokenVariable = "WAFERMONITOR_TOKEN";

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;

    public ApiClient(string? option, string? tokenOption = null)
    {
        var text = !string.IsNullOrWhiteSpace(option) ? option : Environment.GetEnvironmentVariable(ApiUrlVariable);
        if (string.IsNullOrWhiteSpace(text))
            throw new UsageException($"no LocalApi URL: pass --api or set {ApiUrlVariable} (for example http://127.0.0.1:18000)");
        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"LocalApi URL '{text}' is not an absolute http(s) URL (from --api or {ApiUrlVariable})");
        _http = new HttpClient { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        var token = !string.IsNullOrWhiteSpace(tokenOption) ? tokenOption : Environment.GetEnvironmentVariable(TokenVariable);
        if (!string.IsNullOrWhiteSpace(token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>GETs <paramref name="pathAndQuery"/> and returns the body; an error answer's problem detail becomes the message.</summary>
    public async Task<string> GetStringAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(pathAndQuery, HttpCompletionOption.ResponseContentRead, RequestTimeout, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>Opens a streaming GET (the SSE stream), without a time limit; the caller reads and disposes the response.</summary>
    public Task<HttpResponseMessage> OpenStreamAsync(string pathAndQuery, string? lastEventId, CancellationToken cancellationToken) =>
        SendAsync(pathAndQuery, HttpCompletionOption.ResponseHeadersRead, timeout: null, cancellationToken, request =>
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastEventId is not null)
                request.Headers.Add("Last-Event-ID", lastEventId);
        });

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(string pathAndQuery, HttpCompletionOption completion, TimeSpan? timeout,
        CancellationToken cancellationToken, Action<HttpRequestMessage>? prepare = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        prepare?.Invoke(request);
        var url = new Uri(BaseAddress, pathAndQuery);
        using var timer = new CancellationTokenSource();
        if (timeout is { } limit)
            timer.CancelAfter(limit);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, linked.Token);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiException($"GET {url}: {ex.Message}");
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            throw new ApiException($"GET {url}: no answer within {RequestTimeout.TotalSeconds:0} s");
        }
        if (response.IsSuccessStatusCode)
            return response;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        response.Dispose();
        if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            throw new ApiException($"GET {url}: HTTP {(int)response.StatusCode}: pass a read token with --token or set {TokenVariable}");
        throw new ApiException($"GET {url}: HTTP {(int)response.StatusCode} {ProblemDetail(body)}".TrimEnd());
    }

    /// <summary>The <c>detail</c> of an RFC 7807 problem, else the start of the body.</summary>
    private static string ProblemDetail(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("detail", out var detail))
                return detail.GetString() ?? "";
        }
        catch (JsonException)
        {
        }
        return body.Length > 200 ? body[..200] : body;
    }
}
