using System.Collections.Concurrent;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// Loaded partitions kept between episodes so a busy instance is not re-read for every message. Safe with
/// other workers because every commit is ETag-checked: a stale entry fails its commit and is reloaded.
/// A session is taken out while an episode runs and put back after a successful commit.
/// </summary>
internal sealed class InstanceCache(int capacity)
{
    private readonly ConcurrentDictionary<string, InstanceSession> _sessions = new(StringComparer.Ordinal);

    public InstanceSession? TryTake(string instanceId)
    {
        if (!_sessions.TryRemove(instanceId, out var session))
        {
            return null;
        }

        session.FromCache = true;
        return session;
    }

    public void Put(InstanceSession session)
    {
        if (capacity <= 0 || session.State is null || session.State.Status.IsTerminal())
        {
            return;
        }

        while (_sessions.Count >= capacity && _sessions.Keys.FirstOrDefault() is { } victim)
        {
            _sessions.TryRemove(victim, out _);
        }

        _sessions[session.InstanceId] = session;
    }

    public void Remove(string instanceId) => _sessions.TryRemove(instanceId, out _);
}
