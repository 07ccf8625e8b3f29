using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FleetFunctions.Core.Manifests;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Policy;

/// <summary>One YAML document converted to JSON, with where it starts in its file.</summary>
public sealed record YamlDocument(string SourcePath, int Line, JsonNode? Root);

/// <summary>
/// Reads multi-document YAML into <see cref="JsonNode"/> trees with the scalar rules Kubernetes applies
/// (sigs.k8s.io/yaml on go-yaml v2, YAML 1.1): unquoted <c>yes</c>/<c>on</c> are booleans, <c>~</c> is null,
/// whole numbers are 64-bit integers, timestamps stay strings.
/// </summary>
public static partial class YamlDocuments
{
    /// <summary>Parses every document of <paramref name="yaml"/>; empty documents are skipped.</summary>
    /// <exception cref="PolicyLoadException">The text is not valid YAML (the message names <c>path:line</c>).</exception>
    public static IReadOnlyList<YamlDocument> Parse(string sourcePath, string yaml)
    {
        var stream = new YamlStream();
        try
        {
            // Guarded as manifests are: nesting beyond 64 and keys that are collections never reach YamlDotNet's loader.
            stream.Load(new ManifestParser.GuardedParser(new Parser(new StringReader(yaml)), sourcePath));
        }
        catch (ManifestException ex)
        {
            throw new PolicyLoadException(ex.Message, ex);
        }
        catch (YamlException ex)
        {
            throw new PolicyLoadException($"{sourcePath}:{ex.Start.Line}: invalid YAML: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new PolicyLoadException($"{sourcePath}:{LastGoodLine(yaml)}: invalid YAML: unexpected end of a flow collection or document", ex);
        }

        var documents = new List<YamlDocument>(stream.Documents.Count);
        foreach (var document in stream.Documents)
        {
            var root = document.RootNode;
            if (root is YamlScalarNode { Value: null or "" } && root.Tag.IsEmpty)
            {
                continue;
            }

            documents.Add(new YamlDocument(sourcePath, (int)root.Start.Line, new Converter(sourcePath).Convert(root)));
        }

        return documents;
    }

    private static long LastGoodLine(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        long line = 1;
        try
        {
            while (parser.MoveNext())
            {
                line = parser.Current?.End.Line ?? line;
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            return ex is YamlException y ? y.Start.Line : line;
        }

        return line;
    }

    /// <summary>Parses a file from disk.</summary>
    public static IReadOnlyList<YamlDocument> ParseFile(string path) => Parse(path, File.ReadAllText(path));

    /// <summary>Converts one file's nodes, guarded by an <see cref="AliasGuard"/> (aliases containing themselves, alias bombs).</summary>
    private sealed class Converter(string sourcePath)
    {
        private readonly AliasGuard _aliases = new(sourcePath);

        public JsonNode? Convert(YamlNode node)
        {
            bool repeatsHere;
            try
            {
                repeatsHere = _aliases.Enter(node);
            }
            catch (ManifestException ex)
            {
                throw new PolicyLoadException(ex.Message, ex);
            }

            var json = ConvertNode(node);
            _aliases.Exit(node, repeatsHere);
            return json;
        }

        private JsonNode? ConvertNode(YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    var obj = new JsonObject();
                    foreach (var (keyNode, valueNode) in mapping.Children)
                    {
                        var key = keyNode is YamlScalarNode scalarKey ? scalarKey.Value ?? "" : keyNode.ToString();
                        if (key == "<<" && keyNode is YamlScalarNode { Style: ScalarStyle.Plain })
                        {
                            Merge(obj, valueNode);
                            continue;
                        }

                        obj[key] = Convert(valueNode);
                    }

                    return obj;
                case YamlSequenceNode sequence:
                    var array = new JsonArray();
                    foreach (var child in sequence.Children)
                    {
                        array.Add(Convert(child));
                    }

                    return array;
                case YamlScalarNode scalar:
                    return ConvertScalar(scalar);
                default:
                    return null;
            }
        }

        private void Merge(JsonObject target, YamlNode source)
        {
            var sources = source is YamlSequenceNode seq ? seq.Children.ToList() : [source];
            foreach (var item in sources)
            {
                if (Convert(item) is JsonObject merged)
                {
                    foreach (var (key, value) in merged.ToList())
                    {
                        if (!target.ContainsKey(key))
                        {
                            merged.Remove(key);
                            target[key] = value;
                        }
                    }
                }
            }
        }
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (!scalar.Tag.IsEmpty)
        {
            var tag = scalar.Tag.Value;
            return tag switch
            {
                "tag:yaml.org,2002:str" => JsonValue.Create(text),
                "tag:yaml.org,2002:null" => null,
                "tag:yaml.org,2002:bool" => JsonValue.Create(ResolvePlain(text) is JsonValue v && v.TryGetValue<bool>(out var b) && b),
                "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" => ResolvePlain(text) ?? JsonValue.Create(text),
                _ => JsonValue.Create(text),
            };
        }

        return scalar.Style is ScalarStyle.Plain ? ResolvePlain(text) : JsonValue.Create(text);
    }

    /// <summary>Resolves an unquoted scalar the way go-yaml v2 does.</summary>
    internal static JsonNode? ResolvePlain(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON":
                return JsonValue.Create(true);
            case "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
        }

        var first = text[0];
        if (first is not (>= '0' and <= '9') and not '-' and not '+' and not '.')
        {
            return JsonValue.Create(text);
        }

        var plain = text.Replace("_", "", StringComparison.Ordinal);
        if (ManifestParser.TryParseInteger(plain, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return Numbers.Create(number);
        }

        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
