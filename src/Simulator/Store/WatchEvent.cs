namespace FleetFunctions.Simulator.Store;

/// <summary>One change to one object, as delivered to watchers (ADDED, MODIFIED, DELETED).</summary>
internal sealed record WatchEvent(string Type, string StorageKey, StoredObject Object)
{
    public const string Added = "ADDED";
    public const string Modified = "MODIFIED";
    public const string Deleted = "DELETED";
    public const string Bookmark = "BOOKMARK";
}
