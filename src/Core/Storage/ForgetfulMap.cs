using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace FleetFunctions.Core.Storage;

/// <summary>
/// A thread-safe map that forgets everything once it holds <paramref name="capacity"/> entries: for what a process
/// remembers only to save a storage read or write, where forgetting costs one more round trip, never correctness.
/// </summary>
public sealed class ForgetfulMap<TKey, TValue>(int capacity, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _entries = new(comparer);

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) => _entries.TryGetValue(key, out value);

    public void Set(TKey key, TValue value)
    {
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        _entries[key] = value;
    }

    public void Remove(TKey key) => _entries.TryRemove(key, out _);
}
