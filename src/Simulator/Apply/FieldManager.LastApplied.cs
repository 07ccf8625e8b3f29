using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// The API server's bridge from client-side to server-side apply for kubectl: conflicts on fields that the
/// <c>kubectl.kubernetes.io/last-applied-configuration</c> annotation lists are not reported to a
/// <c>kubectl*</c> applier (the apply is forced), and a <c>kubectl</c> apply keeps that annotation, when
/// present, in sync with the applied configuration.
/// </summary>
internal sealed partial class FieldManager
{
    private const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>Whether every conflicting field is listed in the live object's last-applied configuration.</summary>
    private static bool ConflictsAllowedByLastApplied(
        JsonObject? live,
        string manager,
        List<(ManagedFieldsEntry Entry, FieldSet Fields)> conflicts,
        TypeSchema schema)
    {
        if (!manager.StartsWith("kubectl", StringComparison.Ordinal) || LastApplied(live) is not { Length: > 0 } text)
        {
            return false;
        }

        FieldSet lastApplied;
        try
        {
            if (JsonNode.Parse(text) is not JsonObject lastAppliedObject)
            {
                return false;
            }

            lastApplied = FieldSetBuilder.Build(lastAppliedObject, schema);
        }
        catch (Exception e) when (e is JsonException or FieldManagerException)
        {
            return false;
        }

        return conflicts.TrueForAll(c => c.Fields.IsSubsetOf(lastApplied));
    }

    /// <summary>For the <c>kubectl</c> manager: rewrites an existing last-applied annotation to <paramref name="applied"/>.</summary>
    private static void SyncLastApplied(JsonObject? live, JsonObject merged, JsonObject applied, string manager)
    {
        if (manager != "kubectl" || LastApplied(live) is null || merged["metadata"]?["annotations"] is not JsonObject annotations)
        {
            return;
        }

        var copy = (JsonObject)applied.DeepClone();
        if (copy["metadata"]?["annotations"] is JsonObject own)
        {
            own.Remove(LastAppliedAnnotation);
        }

        var text = new StringBuilder();
        CanonicalJson.Write(text, copy);
        annotations[LastAppliedAnnotation] = text.Append('\n').ToString();
    }

    private static string? LastApplied(JsonObject? obj) =>
        obj?["metadata"]?["annotations"]?[LastAppliedAnnotation] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : null;
}
