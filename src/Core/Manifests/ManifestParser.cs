using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Manifests;

/// <summary>
/// Parses multi-document Kubernetes YAML into the unstructured model. Plain scalars are nulls, booleans and floats
/// as in the YAML 1.2 core schema, and integers as Kubernetes reads them (YAML 1.1 in go-yaml v2: <c>0644</c> and
/// <c>0o644</c> are octal, <c>0x1F</c> hex, <c>0b101</c> binary, <c>1_000</c> a thousand); quoted scalars stay
/// strings. Aliases are followed within <see cref="MaxDepth"/> and <see cref="MaxAliasedNodes"/>.
/// <c>kind: List</c> documents are expanded into their items. Empty documents are skipped.
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

        // As go-yaml v2: underscores are dropped from anything starting with a digit or sign before reading a number.
        var digits = char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' ? text.Replace("_", string.Empty, StringComparison.Ordinal) : text;
        if (TryParseInteger(digits, out var integer))
        {
            return JsonValue.Create(integer);
        }

        // 08 and 0999 are not octal: go-yaml v2 reads them as floats, which reach Kubernetes as the whole numbers 8 and 999.
        if (DecimalPattern().IsMatch(digits) && long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return JsonValue.Create(whole);
        }

        if (FloatPattern().IsMatch(digits) && double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    /// <summary>
    /// Reads an integer as Go's <c>strconv.ParseInt(text, 0, 64)</c> does, which is how go-yaml v2 (and so Kubernetes)
    /// reads one once underscores are dropped: an optional sign, then <c>0x</c> hex, <c>0o</c> or a leading <c>0</c>
    /// octal, <c>0b</c> binary, or decimal; prefixes in either case.
    /// </summary>
    internal static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        var negative = text.StartsWith('-');
        var rest = text.AsSpan(negative || text.StartsWith('+') ? 1 : 0);
        var radix = 10;
        if (rest.Length > 1 && rest[0] == '0')
        {
            (radix, var prefix) = char.ToLowerInvariant(rest[1]) switch
            {
                'x' => (16, 2),
                'o' => (8, 2),
                'b' => (2, 2),
                _ => (8, 1),
            };
            rest = rest[prefix..];
        }

        if (rest.IsEmpty)
        {
            return false;
        }

        ulong magnitude = 0;
        foreach (var c in rest)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : int.MaxValue;
            if (digit >= radix || magnitude > (ulong.MaxValue - (ulong)digit) / (ulong)radix)
            {
                return false;
            }

            magnitude = (magnitude * (ulong)radix) + (ulong)digit;
        }

        if (magnitude > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
        {
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    /// <summary>Whether <paramref name="text"/>, written as a plain scalar, reads back as that string (not a null, boolean or number).</summary>
    internal static bool PlainScalarIsString(string text) =>
        ToScalar(new YamlScalarNode(text) { Style = ScalarStyle.Plain }) is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String;

    private static Exception Unwrap(YamlException e) => e.InnerException is YamlException inner ? Unwrap(inner) : e;

    private static string Describe(YamlNode node) => node is YamlSequenceNode ? "sequence" : "scalar";

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex DecimalPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
