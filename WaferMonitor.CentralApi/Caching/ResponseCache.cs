using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace WaferMonitor.CentralApi.Caching;

/// <summary>
/// A short-lived cache of complete answers keyed by path and query, so many dashboards polling the same view cost the
/// sites one request per TTL. Concurrent misses for one key share a single fan-out. <c>Cache-Control: no-cache</c> skips
/// the lookup and refreshes the entry. <c>X-Cache: hit|miss</c> says which happened.
/// </summary>
public sealed class ResponseCache : IDisposable
{
    public const string HeaderName = "X-Cache";

    private readonly MemoryCache cache;
    private readonly ConcurrentDictionary<string, Lazy<Task<CentralResponse>>> inflight = new(StringComparer.Ordinal);
    private readonly IOptions<CentralOptions> options;
    private readonly CancellationToken stopping;

    public ResponseCache(IOptions<CentralOptions> options, IHostApplicationLifetime lifetime)
    {
        this.options = options;
        stopping = lifetime.ApplicationStopping;
        // Its own instance, so the size limit (in body bytes) does not constrain anyone else's IMemoryCache.
        cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.CacheMaxBytes });
    }

    /// <param name="produce">Builds the answer; it runs detached from the requesting client, since other requests may share it.</param>
    public async Task<IResult> ServeAsync(HttpContext context, Func<CancellationToken, Task<CentralResponse>> produce)
    {
        var ttl = options.Value.CacheTtl.Value;
        if (ttl <= TimeSpan.Zero)
            return (await produce(context.RequestAborted)).ToResult();

        var key = context.Request.Path.Value + context.Request.QueryString.Value;
        var bypass = context.Request.Headers.CacheControl.Any(v => v?.Contains(CacheControlHeaderValue.NoCacheString, StringComparison.OrdinalIgnoreCase) == true);
        if (!bypass && cache.TryGetValue(key, out CentralResponse? cached) && cached is not null)
        {
            context.Response.Headers[HeaderName] = "hit";
            return cached.ToResult();
        }

        Task<CentralResponse> answer;
        if (bypass)
        {
            answer = ProduceAndStoreAsync(key, ttl, produce, owner: null);
        }
        else
        {
            Lazy<Task<CentralResponse>>? mine = null;
            mine = new Lazy<Task<CentralResponse>>(() => ProduceAndStoreAsync(key, ttl, produce, mine));
            answer = inflight.GetOrAdd(key, mine).Value;
        }
        var response = await answer.WaitAsync(context.RequestAborted);
        context.Response.Headers[HeaderName] = "miss";
        return response.ToResult();
    }

    private async Task<CentralResponse> ProduceAndStoreAsync(
        string key, TimeSpan ttl, Func<CancellationToken, Task<CentralResponse>> produce, Lazy<Task<CentralResponse>>? owner)
    {
        try
        {
            var response = await produce(stopping);
            if (response.Cacheable)
            {
                cache.Set(key, response, new MemoryCacheEntryOptions
                {
                    AbsoluteExpirationRelativeToNow = ttl,
                    Size = Math.Max(1, response.Body.Length),
                });
            }
            return response;
        }
        finally
        {
            if (owner is not null)
                inflight.TryRemove(KeyValuePair.Create(key, owner));
        }
    }

    public void Dispose() => cache.Dispose();
}
