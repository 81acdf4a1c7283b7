using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace WaferMonitor.CentralApi.Sites;

/// <summary>What a site answered: its status code, body and content type, passed on unchanged.</summary>
public sealed record SiteResponse(int StatusCode, byte[] Body, string ContentType);

/// <summary>A site did not answer in time or at all; <see cref="Exception.Message"/> is what <c>site_errors</c> shows.</summary>
public sealed class SiteUnavailableException(string message, bool timedOut, Exception? inner = null) : Exception(message, inner)
{
    public bool TimedOut { get; } = timedOut;
}

/// <summary>
/// The only way CentralApi talks to sites: GET requests (read-only by construction), at most
/// <see cref="CentralOptions.MaxConcurrentRequestsPerSite"/> in flight per site, each bounded by a deadline that covers
/// waiting for a slot and every resilience retry — so one frozen site costs a fan-out at most that deadline.
/// </summary>
public sealed partial class SiteClient(IHttpClientFactory clients, IOptions<CentralOptions> options, ILogger<SiteClient> logger)
{
    public const string HttpClientName = "sites";

    private readonly ConcurrentDictionary<string, SemaphoreSlim> slots = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan SiteTimeout => options.Value.SiteTimeout.Value;

    /// <param name="timeout">The deadline of this call; the per-site fan-out timeout unless the caller needs another.</param>
    public async Task<SiteResponse> GetAsync(Site site, string pathAndQuery, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var activity = CentralTelemetry.Source.StartActivity("central.site");
        activity?.SetTag("wafer.site", site.Id);
        activity?.SetTag("url.path", pathAndQuery);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var slot = slots.GetOrAdd(site.Id, _ => new SemaphoreSlim(options.Value.MaxConcurrentRequestsPerSite));
        var entered = false;
        try
        {
            await slot.WaitAsync(deadline.Token);
            entered = true;
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(site.BaseAddress, pathAndQuery));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (site.Token is { Length: > 0 } token)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, deadline.Token);
            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token);
            return new SiteResponse((int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString() ?? "application/json");
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var message = $"timeout after {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
            LogSiteFailed(logger, site.Id, message);
            throw new SiteUnavailableException(message, timedOut: true, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SiteUnavailableException)
        {
            // Network errors, an open circuit breaker, a resilience timeout: all mean "this site did not answer".
            LogSiteFailed(logger, site.Id, ex.Message);
            throw new SiteUnavailableException(ex.Message, timedOut: false, ex);
        }
        finally
        {
            if (entered)
                slot.Release();
        }
    }

    public Task<SiteResponse> GetAsync(Site site, string pathAndQuery, CancellationToken cancellationToken) =>
        GetAsync(site, pathAndQuery, SiteTimeout, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Site {SiteId} did not answer: {Reason}")]
    private static partial void LogSiteFailed(ILogger logger, string siteId, string reason);
}
