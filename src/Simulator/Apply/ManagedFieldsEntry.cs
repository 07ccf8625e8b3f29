using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// One <c>metadata.managedFields</c> entry while a write is computed: who (manager, operation, apiVersion
/// for updates, subresource), when, and the decoded field set. Unchanged entries are written back as
/// they were read.
/// </summary>
internal sealed class ManagedFieldsEntry
{
    public const string ApplyOperation = "Apply";
    public const string UpdateOperation = "Update";

    private FieldSet? set;
    private JsonObject? fieldsV1;

    public required string Manager { get; init; }

    public required string Operation { get; init; }

    public string? ApiVersion { get; set; }

    /// <summary>RFC 3339 in seconds, as read or as written (<c>2024-05-01T10:00:00Z</c>).</summary>
    public string? Time { get; set; }

    public string? Subresource { get; init; }

    /// <summary>The fields owned; decoded from the entry's FieldsV1 on first use (most writes need only a few entries).</summary>
    public FieldSet Set
    {
        get => set ??= FieldSet.FromFieldsV1(fieldsV1);
        set => this.set = value;
    }

    /// <summary>Whether the entry owns nothing, without decoding an entry that was never used.</summary>
    public bool IsEmpty => set?.IsEmpty ?? fieldsV1 is not { Count: > 0 };

    /// <summary>The entry as read; written back unchanged unless <see cref="Changed"/>.</summary>
    public JsonObject? Original { get; set; }

    public bool Changed { get; set; }

    public bool IsApply => Operation == ApplyOperation;

    /// <summary>Whether this entry belongs to the same manager identity: Apply entries per manager, Update entries per manager and apiVersion.</summary>
    public bool Is(string manager, string operation, string? apiVersion, string? subresource) =>
        Manager == manager
        && Operation == operation
        && string.Equals(Subresource ?? string.Empty, subresource ?? string.Empty, StringComparison.Ordinal)
        && (operation == ApplyOperation || string.Equals(ApiVersion, apiVersion, StringComparison.Ordinal));

    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads <c>metadata.managedFields</c>; entries without manager or operation are dropped.</summary>
    public static List<ManagedFieldsEntry> Decode(JsonArray? managedFields)
    {
        var entries = new List<ManagedFieldsEntry>(managedFields?.Count ?? 0);
        if (managedFields is null)
        {
            return entries;
        }

        foreach (var node in managedFields)
        {
            if (node is not JsonObject entry
                || Text(entry, "manager") is not { } manager
                || Text(entry, "operation") is not ({ } operation and (ApplyOperation or UpdateOperation)))
            {
                continue;
            }

            entries.Add(new ManagedFieldsEntry
            {
                Manager = manager,
                Operation = operation,
                ApiVersion = Text(entry, "apiVersion"),
                Time = Text(entry, "time"),
                Subresource = Text(entry, "subresource"),
                fieldsV1 = entry["fieldsV1"] as JsonObject,
                Original = entry,
            });
        }

        return entries;
    }

    /// <summary>
    /// Writes entries in the API server's order (Apply before Update, then oldest first, then manager,
    /// apiVersion, subresource). Unchanged entries reuse their original JSON (copied when
    /// <paramref name="originalsAreDetached"/> is false).
    /// </summary>
    public static JsonArray Encode(List<ManagedFieldsEntry> entries, bool originalsAreDetached)
    {
        entries.Sort(static (p, q) =>
        {
            var c = string.CompareOrdinal(p.Operation, q.Operation);
            if (c != 0)
            {
                return c;
            }

            c = Seconds(p.Time).CompareTo(Seconds(q.Time));
            if (c != 0)
            {
                return c;
            }

            c = string.CompareOrdinal(p.Manager, q.Manager);
            if (c != 0)
            {
                return c;
            }

            c = string.CompareOrdinal(p.ApiVersion, q.ApiVersion);
            return c != 0 ? c : string.CompareOrdinal(p.Subresource ?? string.Empty, q.Subresource ?? string.Empty);
        });

        var array = new JsonArray();
        foreach (var entry in entries)
        {
            if (!entry.Changed && entry.Original is { } original)
            {
                array.Add(originalsAreDetached && original.Parent is null ? original : original.DeepClone());
                continue;
            }

            var written = new JsonObject
            {
                ["manager"] = entry.Manager,
                ["operation"] = entry.Operation,
            };
            if (entry.ApiVersion is not null)
            {
                written["apiVersion"] = entry.ApiVersion;
            }

            if (entry.Time is not null)
            {
                written["time"] = entry.Time;
            }

            written["fieldsType"] = "FieldsV1";
            written["fieldsV1"] = entry.Set.ToFieldsV1();
            if (!string.IsNullOrEmpty(entry.Subresource))
            {
                written["subresource"] = entry.Subresource;
            }

            array.Add(written);
        }

        return array;
    }

    private static long Seconds(string? time) =>
        time is not null && DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed.ToUnixTimeSeconds()
            : 0;

    private static string? Text(JsonObject obj, string name) =>
        obj.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;
}
