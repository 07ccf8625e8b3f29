using System.Collections.Concurrent;

namespace FleetFunctions.Core.Storage;

/// <summary>
/// Values by key, at most <c>maxSize</c> in total (each value weighs <c>sizeOf</c>): when full, the least recently used
/// entries are forgotten until a quarter of the room is free, so a cyclic pass over more entries than fit still finds
/// most of them (a cache cleared all at once finds none). Entries unused for longer than <c>idleLifetime</c> are
/// forgotten by <see cref="ForgetIdle"/>. Each forgotten value is handed to <c>forgotten</c>. Thread-safe.
/// </summary>
internal sealed class RecentCache<TKey, TValue>(long maxSize, Func<TValue, long> sizeOf, TimeProvider time, TimeSpan? idleLifetime = null, Action<TValue>? forgotten = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly Lock _trimming = new();
    private long _size;

    public int Count => _entries.Count;

    /// <summary>The value of <paramref name="key"/>, marked as used now.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            Volatile.Write(ref entry.LastUsed, time.GetTimestamp());
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Remembers <paramref name="value"/>; a value larger than the whole cache is not kept (and handed to <c>forgotten</c>).</summary>
    public void Add(TKey key, TValue value)
    {
        var entry = new Entry(value, sizeOf(value), time.GetTimestamp());
        if (entry.Size > maxSize || !_entries.TryAdd(key, entry))
        {
            forgotten?.Invoke(value);
            return;
        }

        if (Interlocked.Add(ref _size, entry.Size) > maxSize)
        {
            Trim();
        }
    }

    /// <summary>Forgets the entries unused for longer than the idle lifetime.</summary>
    public void ForgetIdle()
    {
        if (idleLifetime is not { } lifetime || _entries.IsEmpty)
        {
            return;
        }

        foreach (var (key, entry) in _entries)
        {
            if (time.GetElapsedTime(Volatile.Read(ref entry.LastUsed)) > lifetime)
            {
                Forget(key, entry);
            }
        }
    }

    private void Trim()
    {
        lock (_trimming)
        {
            if (Interlocked.Read(ref _size) <= maxSize)
            {
                return;
            }

            foreach (var (key, entry) in _entries.ToArray().OrderBy(e => Volatile.Read(ref e.Value.LastUsed)))
            {
                if (Interlocked.Read(ref _size) <= maxSize * 3 / 4)
                {
                    return;
                }

                Forget(key, entry);
            }
        }
    }

    private void Forget(TKey key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry)))
        {
            Interlocked.Add(ref _size, -entry.Size);
            forgotten?.Invoke(entry.Value);
        }
    }

    private sealed class Entry(TValue value, long size, long lastUsed)
    {
        public readonly TValue Value = value;
        public readonly long Size = size;
        public long LastUsed = lastUsed;
    }
}
