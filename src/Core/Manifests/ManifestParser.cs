using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Manifests;

/// <summary>
/// Parses multi-document Kubernetes YAML into the unstructured model. Plain scalars follow the YAML 1.2
/// core schema (null, booleans, integers, floats); quoted scalars stay strings. Aliases are followed within
/// <see cref="MaxDepth"/> and <see cref="MaxAliasedNodes"/>. <c>kind: List</c> documents are expanded into their
/// items. Empty documents are skipped.
/// </summary>
public static partial class ManifestParser
{
    /// <summary>Parses <paramref name="yaml"/> read from <paramref name="source"/> (used in errors).</summary>
    /// <exception cref="ManifestException">
    /// Malformed YAML, a document that is not a mapping, a key that is not a scalar, or aliases that repeat without end
    /// or beyond the limits.
    /// </exception>
    public static IReadOnlyList<ManifestObject> Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(new GuardedParser(parser, source));
        }
        catch (YamlException e)
        {
            throw new ManifestException($"{source}:{e.Start.Line}: malformed YAML: {Unwrap(e).Message}; fix the file and push a new commit.");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some unterminated constructs at the end of input.
            var line = parser.Current?.Start.Line ?? 0;
            throw new ManifestException($"{source}:{line}: malformed YAML: unterminated flow collection or scalar; fix the file and push a new commit.");
        }

        var converter = new Converter(source);
        var result = new List<ManifestObject>();
        foreach (var document in stream.Documents)
        {
            var root = document.RootNode;
            var line = (int)root.Start.Line;
            if (root is YamlScalarNode { Value: null or "" or "~" or "null" })
            {
                continue;
            }

            if (root is not YamlMappingNode mapping)
            {
                throw new ManifestException($"{source}:{line}: a Kubernetes object must be a YAML mapping, found a {Describe(root)}.");
            }

            var obj = (JsonObject)converter.ToJson(mapping)!;
            if (obj.GetString("kind") is "List" && obj["items"] is JsonArray items)
            {
                var index = 0;
                foreach (var item in items)
                {
                    if (item is not JsonObject itemObj)
                    {
                        throw new ManifestException($"{source}:{line}: item {index} of the List is not an object.");
                    }

                    result.Add(new ManifestObject((JsonObject)itemObj.DeepClone(), source, line));
                    index++;
                }

                continue;
            }

            result.Add(new ManifestObject(obj, source, line));
        }

        return result;
    }

    private static JsonNode? ToScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value is "tag:yaml.org,2002:str" or "!!str")
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    /// <summary>Whether <paramref name="text"/>, written as a plain scalar, reads back as that string (not a null, boolean or number).</summary>
    internal static bool PlainScalarIsString(string text) =>
        ToScalar(new YamlScalarNode(text) { Style = ScalarStyle.Plain }) is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String;

    private static Exception Unwrap(YamlException e) => e.InnerException is YamlException inner ? Unwrap(inner) : e;

    private static string Describe(YamlNode node) => node is YamlSequenceNode ? "sequence" : "scalar";

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
