using System.Globalization;
using System.Text;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>Maps instance ids to table keys and blob prefixes (characters tables forbid are %-escaped).</summary>
internal static class KeyEncoding
{
    public const int MaxInstanceIdLength = 256;

    /// <summary>Why <paramref name="instanceId"/> cannot be an instance id (empty, only whitespace, too long); null when it can.</summary>
    public static string? InstanceIdProblem(string instanceId) =>
        string.IsNullOrWhiteSpace(instanceId) ? $"instance id '{instanceId}' is empty or only whitespace"
        : instanceId.Length > MaxInstanceIdLength ? $"instance id '{instanceId[..40]}...' is {instanceId.Length} characters; the limit is {MaxInstanceIdLength}"
        : null;

    public static void ValidateInstanceId(string instanceId)
    {
        if (InstanceIdProblem(instanceId) is { } problem)
        {
            throw new ArgumentException(problem + ".", nameof(instanceId));
        }
    }

    /// <summary>Partition key for an instance: '/', '\', '#', '?', '%' and control characters become %XX.</summary>
    public static string ToPartitionKey(string instanceId)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < instanceId.Length; i++)
        {
            var c = instanceId[i];
            var escape = c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c);
            if (escape)
            {
                sb ??= new StringBuilder(instanceId, 0, i, instanceId.Length + 8);
                sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb?.Append(c);
            }
        }

        return sb?.ToString() ?? instanceId;
    }

    /// <summary>Blob name prefix holding an instance's large payloads.</summary>
    public static string ToBlobPrefix(string instanceId) => Uri.EscapeDataString(instanceId) + "/";
}
