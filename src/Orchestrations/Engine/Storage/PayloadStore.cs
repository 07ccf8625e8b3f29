using System.Text;
using Azure;
using Azure.Storage.Blobs;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>
/// Large payloads as blobs. A payload over the threshold is uploaded under a unique name and replaced by
/// <c>@blob:NAME</c> (JSON text never starts with '@', so a reference is unambiguous). Blobs are write-once:
/// a commit that loses a race leaves an unreferenced blob, removed when the instance is purged.
/// </summary>
internal sealed class PayloadStore(BlobContainerClient container, int thresholdBytes)
{
    public const string ReferencePrefix = "@blob:";

    public static bool IsReference(string? value) => value is not null && value.StartsWith(ReferencePrefix, StringComparison.Ordinal);

    public bool IsLarge(string? value) => value is not null && value.Length * 3 > thresholdBytes && Encoding.UTF8.GetByteCount(value) > thresholdBytes;

    /// <summary>Returns the value, or a reference to a blob holding it when it is large.</summary>
    public async Task<string?> OffloadAsync(string instanceId, string? value, CancellationToken cancellationToken)
    {
        if (!IsLarge(value) || IsReference(value))
        {
            return value;
        }

        return await UploadAsync(instanceId, value!, cancellationToken);
    }

    /// <summary>Uploads text unconditionally and returns its reference.</summary>
    public async Task<string> UploadAsync(string instanceId, string value, CancellationToken cancellationToken)
    {
        var name = KeyEncoding.ToBlobPrefix(instanceId) + Guid.NewGuid().ToString("N");
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(value), overwrite: true, cancellationToken);
        return ReferencePrefix + name;
    }

    /// <summary>The text a reference points at (the value itself when it is not a reference).</summary>
    public async Task<string?> ResolveAsync(string? value, CancellationToken cancellationToken)
    {
        if (!IsReference(value))
        {
            return value;
        }

        var name = value![ReferencePrefix.Length..];
        try
        {
            var content = await container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new InvalidOperationException($"payload blob '{container.Name}/{name}' is missing: the instance was purged or the blob deleted.", ex);
        }
    }

    /// <summary>Downloads every reference in <paramref name="values"/> not already in <paramref name="cache"/>.</summary>
    public async Task PrefetchAsync(IEnumerable<string?> values, Dictionary<string, string> cache, CancellationToken cancellationToken)
    {
        var missing = values.Where(v => IsReference(v) && !cache.ContainsKey(v!)).Select(v => v!).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var contents = await Task.WhenAll(missing.Select(m => ResolveAsync(m, cancellationToken)));
        for (var i = 0; i < missing.Count; i++)
        {
            cache[missing[i]] = contents[i]!;
        }
    }

    /// <summary>Deletes all payload blobs of an instance; returns how many.</summary>
    public async Task<int> DeleteAllAsync(string instanceId, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var blob in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = KeyEncoding.ToBlobPrefix(instanceId) }, cancellationToken))
        {
            await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            count++;
        }

        return count;
    }
}
