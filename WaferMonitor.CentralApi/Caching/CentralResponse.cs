using System.Text.Json;
using WaferMonitor.Sdk.Contracts;

namespace WaferMonitor.CentralApi.Caching;

/// <summary>
/// A finished answer as bytes, so it can be cached and replayed. <see cref="Complete"/> is false when a site is missing
/// from it: such an answer is served but never cached, so the next request asks the sites again.
/// </summary>
public sealed record CentralResponse(int StatusCode, byte[] Body, string ContentType, bool Complete)
{
    private const string Json = "application/json; charset=utf-8";
    private const string ProblemJson = "application/problem+json; charset=utf-8";

    public bool Cacheable => StatusCode == StatusCodes.Status200OK && Complete;

    public static CentralResponse Ok<T>(T value, bool complete) =>
        new(StatusCodes.Status200OK, JsonSerializer.SerializeToUtf8Bytes(value, WireJson.Options), Json, complete);

    public static CentralResponse Problem(int statusCode, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var body = new Dictionary<string, object?> { ["title"] = title, ["status"] = statusCode, ["detail"] = detail };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
            body[key] = value;
        return new(statusCode, JsonSerializer.SerializeToUtf8Bytes(body, WireJson.Options), ProblemJson, Complete: false);
    }

    public IResult ToResult() => StatusCode == StatusCodes.Status200OK ? TypedResults.Bytes(Body, ContentType) : new StatusBytesResult(this);

    private sealed class StatusBytesResult(CentralResponse response) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = response.StatusCode;
            httpContext.Response.ContentType = response.ContentType;
            return httpContext.Response.Body.WriteAsync(response.Body, httpContext.RequestAborted).AsTask();
        }
    }
}
