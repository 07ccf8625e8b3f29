using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// LIST pagination (<c>limit</c>/<c>continue</c>): items are ordered by namespace/name and a continue token
/// names the last key served. Pages reflect the current state, not a snapshot of the first page's version.
/// </summary>
internal sealed record ListPage(IReadOnlyList<StoredObject> Items, string? Continue, long Remaining)
{
    public static ListPage Cut(List<StoredObject> ordered, string? limitText, string? continueToken, long resourceVersion)
    {
        var start = 0;
        if (!string.IsNullOrEmpty(continueToken))
        {
            var after = DecodeToken(continueToken);
            start = ordered.FindIndex(o => string.CompareOrdinal(o.Key, after) > 0);
            if (start < 0)
            {
                start = ordered.Count;
            }
        }

        if (string.IsNullOrEmpty(limitText))
        {
            return new ListPage(start == 0 ? ordered : ordered[start..], null, 0);
        }

        if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit <= 0)
        {
            return new ListPage(ordered[start..], null, 0);
        }

        var count = Math.Min(limit, ordered.Count - start);
        var items = ordered.GetRange(start, count);
        var remaining = ordered.Count - start - count;
        return remaining > 0
            ? new ListPage(items, EncodeToken(resourceVersion, items[^1].Key), remaining)
            : new ListPage(items, null, 0);
    }

    /// <summary>Adds continue/remainingItemCount to a list's metadata when there is a next page.</summary>
    public void Annotate(JsonObject metadata)
    {
        if (Continue is not null)
        {
            metadata["continue"] = Continue;
            metadata["remainingItemCount"] = Remaining;
        }
    }

    private static string EncodeToken(long resourceVersion, string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{resourceVersion.ToString(CultureInfo.InvariantCulture)}|{lastKey}"));

    private static string DecodeToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            return bar > 0 ? text[(bar + 1)..] : throw ApiException.BadRequest($"continue: Invalid value: \"{token}\": not a continue token from this server");
        }
        catch (FormatException)
        {
            throw ApiException.BadRequest($"continue: Invalid value: \"{token}\": not a continue token from this server");
        }
    }
}
