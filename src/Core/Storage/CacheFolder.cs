namespace FleetFunctions.Core.Storage;

/// <summary>
/// The last use of a cache folder, kept in the folder's own write time, so that a restart and every process sharing
/// the cache see it (in-process memory would not).
/// </summary>
internal static class CacheFolder
{
    /// <summary>Records a use at <paramref name="at"/>; a folder removed meanwhile is left alone (it is written again when needed).</summary>
    public static void Touch(string folder, DateTimeOffset at)
    {
        try
        {
            Directory.SetLastWriteTimeUtc(folder, at.UtcDateTime);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone, or not ours: nothing to record.
        }
    }

    /// <summary>When the folder was last used (or written).</summary>
    public static DateTimeOffset LastUse(string folder) => new(Directory.GetLastWriteTimeUtc(folder), TimeSpan.Zero);
}
