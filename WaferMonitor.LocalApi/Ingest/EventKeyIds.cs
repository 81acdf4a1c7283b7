using System.Security.Cryptography;
using System.Text;

namespace WaferMonitor.LocalApi.Ingest;

/// <summary>
/// The 16-byte form an idempotency key is deduplicated by (<c>event_key.key_id</c>): a key written as a lowercase UUID, as
/// the v2 and WaferMonitor SDKs send them, is that UUID; any other key is the first 16 bytes of its UTF-8 SHA-256.
/// Agrees with the database's <c>wm_event_key_id</c> (migration 0015), which converted the keys stored before.
/// </summary>
internal static class EventKeyIds
{
    public static Guid Of(string key) =>
        key.Length == 36 && !key.AsSpan().ContainsAnyInRange('A', 'F') && Guid.TryParseExact(key, "D", out var id) ? id : Hashed(key);

    private static Guid Hashed(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return new Guid(hash[..16], bigEndian: true);
    }
}
