using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace WaferMonitor.Pages;

/// <summary>The embedded <c>wwwroot</c> files, read once into memory with their content type and ETag.</summary>
internal sealed class PageAssets
{
    private const string Root = "wwwroot/";

    private readonly FrozenDictionary<string, Asset> assets;

    public PageAssets()
    {
        var contentTypes = new FileExtensionContentTypeProvider();
        var assembly = typeof(PageAssets).Assembly;
        assets = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(Root, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[Root.Length..], name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                var bytes = memory.ToArray();
                var contentType = contentTypes.TryGetContentType(name, out var type) ? type : "application/octet-stream";
                if (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType.EndsWith("javascript", StringComparison.Ordinal))
                    contentType += "; charset=utf-8";
                var tag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
                return new Asset(bytes, contentType, tag);
            });
    }

    public Asset? Find(string path) => assets.GetValueOrDefault(path);

    public string Text(string path) => System.Text.Encoding.UTF8.GetString(assets[path].Bytes);

    internal sealed record Asset(byte[] Bytes, string ContentType, EntityTagHeaderValue ETag);
}
