using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FleetFunctions.Core.Manifests;

/// <summary>
/// Writes objects of the unstructured model as YAML documents that read back the same, here and in Kubernetes' own
/// YAML 1.1 readers: a string that a reader could take for a null, boolean or number ("true", "1234", "yes", "~") is
/// quoted, multi-line strings are literal blocks, and the emitter quotes whatever plain YAML cannot hold.
/// </summary>
public static class ManifestYaml
{
    /// <summary>The YAML 1.1 booleans that YAML 1.2's core schema reads as strings (Kubernetes' YAML reader does not).</summary>
    private static readonly HashSet<string> Yaml11Booleans = new(StringComparer.Ordinal)
    {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    };

    /// <summary><paramref name="objects"/> as one YAML stream, separated by <c>---</c>.</summary>
    public static string Write(IEnumerable<JsonObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(text, new EmitterSettings().WithBestIndent(2).WithBestWidth(int.MaxValue));
        emitter.Emit(new StreamStart());
        foreach (var obj in objects)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: false));
            Emit(emitter, obj);
            emitter.Emit(new DocumentEnd(isImplicit: true));
        }

        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart());
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case null:
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                EmitString(emitter, value.GetValue<string>());
                break;
            default:
                // Numbers and booleans: their JSON text is their plain YAML form.
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, node.ToJsonString(), ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
        }
    }

    private static void EmitString(IEmitter emitter, string text)
    {
        var style = text.Contains('\n', StringComparison.Ordinal) ? ScalarStyle.Literal
            : ReadsAsString(text) ? ScalarStyle.Any
            : ScalarStyle.DoubleQuoted;
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, style, isPlainImplicit: true, isQuotedImplicit: true));
    }

    /// <summary>Whether <paramref name="text"/> written plain reads back as that string in YAML 1.2 and 1.1 alike.</summary>
    private static bool ReadsAsString(string text) =>
        !Yaml11Booleans.Contains(text) && !LooksNumeric(text) && ManifestParser.PlainScalarIsString(text);

    /// <summary>
    /// Anything a YAML 1.1 reader might take for a number (it also reads <c>1_000</c>, <c>0x1F</c>, <c>.inf</c> and
    /// <c>1:30</c>): a sign, dot or digit first, then only digits, hex letters and number punctuation. Quoting a few
    /// strings that are not numbers (<c>12ab</c>) costs nothing.
    /// </summary>
    private static bool LooksNumeric(string text) =>
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.')
        && text.All(c => char.IsAsciiHexDigit(c) || c is '_' or ':' or '.' or '-' or '+' or 'x' or 'X' or 'o' or 'O' or 'i' or 'I' or 'n' or 'N');
}
