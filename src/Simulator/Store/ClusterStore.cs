using System.Collections.Concurrent;
using FleetFunctions.Simulator.Api;
using FleetFunctions.Simulator.Selectors;

namespace FleetFunctions.Simulator.Store;

/// <summary>
/// The "etcd" of one cluster: objects per resource, one resourceVersion counter, a ring of recent events
/// for watch resumption and the open watchers. Every member must be called holding <see cref="Sync"/>, except
/// <see cref="Get"/>, which may also read one object without it (the snapshot an optimistic write starts from);
/// clusters never share a lock.
/// </summary>
internal sealed class ClusterStore
{
    private const int EventHistory = 1024;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, StoredObject>> _objects = new(StringComparer.Ordinal);
    private readonly WatchEvent[] _history = new WatchEvent[EventHistory];
    private readonly List<Watcher> _watchers = [];
    private int _historyStart;
    private int _historyCount;
    private long _historyFloor;
    private long _resourceVersion;

    public Lock Sync { get; } = new();

    /// <summary>The last resourceVersion handed out.</summary>
    public long ResourceVersion => _resourceVersion;

    public int ObjectCount => _objects.Values.Sum(o => o.Count);

    public long NextResourceVersion() => ++_resourceVersion;

    /// <summary>One object, or null; safe without <see cref="Sync"/> (writers replace objects whole, never change one).</summary>
    public StoredObject? Get(string storageKey, string ns, string name) =>
        _objects.TryGetValue(storageKey, out var byKey) && byKey.TryGetValue(StoredObject.KeyOf(ns, name), out var obj) ? obj : null;

    /// <summary>Objects of one resource, optionally in one namespace, ordered by namespace/name.</summary>
    public List<StoredObject> List(string storageKey, string? ns)
    {
        if (!_objects.TryGetValue(storageKey, out var byKey))
        {
            return [];
        }

        var result = new List<StoredObject>(byKey.Count);
        foreach (var (_, obj) in byKey)
        {
            if (ns is null || obj.Namespace == ns)
            {
                result.Add(obj);
            }
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    /// <summary>True when the resource has an object, in <paramref name="ns"/> when given.</summary>
    public bool Any(string storageKey, string? ns) =>
        _objects.TryGetValue(storageKey, out var byKey) && (ns is null ? !byKey.IsEmpty : byKey.Values.Any(o => o.Namespace == ns));

    /// <summary>Every object of every resource: (storage key, object).</summary>
    public IEnumerable<(string StorageKey, StoredObject Object)> All() =>
        _objects.SelectMany(p => p.Value.Select(o => (p.Key, o.Value)));

    /// <summary>Stores a created or modified object and tells the watchers.</summary>
    public void Put(string storageKey, StoredObject obj, bool created)
    {
        var byKey = _objects.GetOrAdd(storageKey, static _ => new ConcurrentDictionary<string, StoredObject>(StringComparer.Ordinal));
        byKey[obj.Key] = obj;
        Publish(new WatchEvent(created ? WatchEvent.Added : WatchEvent.Modified, storageKey, obj));
    }

    /// <summary>Removes an object; <paramref name="finalState"/> (carrying the deletion's resourceVersion) goes to watchers.</summary>
    public void Remove(string storageKey, StoredObject finalState)
    {
        if (_objects.TryGetValue(storageKey, out var byKey) && byKey.TryRemove(finalState.Key, out _))
        {
            Publish(new WatchEvent(WatchEvent.Deleted, storageKey, finalState));
        }
    }

    /// <summary>
    /// Opens a watch. With <paramref name="fromResourceVersion"/> null, the current objects are queued as ADDED
    /// first; otherwise every retained event after that version is replayed (410 Gone when it is too old).
    /// </summary>
    public Watcher Subscribe(string storageKey, string? ns, FieldSelector fields, LabelSelector labels, long? fromResourceVersion)
    {
        var watcher = new Watcher(storageKey, ns, fields, labels);
        if (fromResourceVersion is null)
        {
            foreach (var obj in List(storageKey, ns))
            {
                watcher.Offer(new WatchEvent(WatchEvent.Added, storageKey, obj));
            }
        }
        else
        {
            if (fromResourceVersion < _historyFloor)
            {
                throw ApiException.Gone($"too old resource version: {fromResourceVersion} ({_historyFloor})");
            }

            for (var i = 0; i < _historyCount; i++)
            {
                var e = _history[(_historyStart + i) % EventHistory];
                if (e.Object.ResourceVersion > fromResourceVersion)
                {
                    watcher.Offer(e);
                }
            }
        }

        _watchers.Add(watcher);
        return watcher;
    }

    public void Unsubscribe(Watcher watcher) => _watchers.Remove(watcher);

    /// <summary>Drops every object, event and watcher, as after losing etcd. The version counter keeps counting.</summary>
    public void Clear()
    {
        _objects.Clear();
        Array.Clear(_history);
        _historyStart = 0;
        _historyCount = 0;
        _historyFloor = _resourceVersion;
        CloseWatchers();
    }

    public void CloseWatchers()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Close();
        }

        _watchers.Clear();
    }

    private void Publish(WatchEvent e)
    {
        if (_historyCount == EventHistory)
        {
            _historyFloor = _history[_historyStart].Object.ResourceVersion;
            _history[_historyStart] = e;
            _historyStart = (_historyStart + 1) % EventHistory;
        }
        else
        {
            _history[(_historyStart + _historyCount) % EventHistory] = e;
            _historyCount++;
        }

        foreach (var watcher in _watchers)
        {
            watcher.Offer(e);
        }
    }
}
