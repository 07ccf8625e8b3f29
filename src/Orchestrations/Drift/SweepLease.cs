using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>
/// An Azure blob lease held while one sweep runs, so that one sweep runs at a time across instances: acquired or
/// refused at once, renewed every third of its duration while held, released on dispose. <see cref="Lost"/> is
/// cancelled when a renewal fails (the holder must stop: another instance may take over once it expires).
/// </summary>
internal sealed class SweepLease : IAsyncDisposable
{
    private readonly BlobLeaseClient _lease;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private SweepLease(BlobLeaseClient lease, TimeSpan duration)
    {
        _lease = lease;
        _renewal = RenewAsync(duration / 3);
    }

    /// <summary>Cancelled when the lease could not be renewed.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Why the lease was lost, once <see cref="Lost"/> is cancelled.</summary>
    public string? LostReason { get; private set; }

    /// <summary>Acquires the lease on <paramref name="blobName"/> (creating the blob), or returns null when another holder has it.</summary>
    public static async Task<SweepLease?> TryAcquireAsync(BlobContainerClient container, string blobName, TimeSpan duration, CancellationToken cancellationToken)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blob = container.GetBlobClient(blobName);
        try
        {
            await blob.UploadAsync(BinaryData.Empty, overwrite: false, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Exists already (possibly leased): fine.
        }

        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(duration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return null;
        }

        return new SweepLease(lease, duration);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewal;
        try
        {
            await _lease.ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Lost or expired already: it frees itself.
        }

        _stop.Dispose();
        _lost.Dispose();
    }

    private async Task RenewAsync(TimeSpan interval)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _stop.Token);
                try
                {
                    await _lease.RenewAsync(cancellationToken: _stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Refused (another holder took it after expiry) or storage unreachable after the SDK's retries.
                    LostReason = e.Message;
                    await _lost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Released.
        }
    }
}
