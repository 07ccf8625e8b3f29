using System.Threading.Channels;
using FleetFunctions.Simulator.Selectors;

namespace FleetFunctions.Simulator.Store;

/// <summary>
/// One open watch: which objects it wants and the channel its events are queued on. The cluster store
/// writes to the channel under its lock; the HTTP response drains it.
/// </summary>
internal sealed class Watcher(string storageKey, string? ns, FieldSelector fields, LabelSelector labels)
{
    private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    public ChannelReader<WatchEvent> Events => _events.Reader;

    public bool Matches(string key, StoredObject obj) =>
        key == storageKey
        && (ns is null || obj.Namespace == ns)
        && fields.Matches(obj)
        && labels.Matches(obj.Labels);

    public void Offer(WatchEvent e)
    {
        if (Matches(e.StorageKey, e.Object))
        {
            _events.Writer.TryWrite(e);
        }
    }

    /// <summary>Ends the watch (cluster wiped or removed): the client sees the stream close and re-lists.</summary>
    public void Close() => _events.Writer.TryComplete();
}
