using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Simulator.Serialization;

/// <summary>Reads request bodies that may be YAML (server-side apply) into the JSON object model.</summary>
internal static class YamlJson
{
    /// <summary>Parses JSON, or YAML when the body does not start like JSON. Throws <see cref="FormatException"/>.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> body)
    {
        // the common case, JSON (what clients send as apply-patch+yaml), straight from the bytes; anything unusual
        // (non-ASCII leading space, invalid UTF-8, a syntax error to report) takes the text path below
        var start = body.IndexOfAnyExcept(" \t\r\n"u8);
        if (start >= 0 && body[start] is (byte)'{' or (byte)'[')
        {
            try
            {
                return JsonNode.Parse(body[start..]);
            }
            catch (System.Text.Json.JsonException)
            {
                // reported (or tolerated) exactly as before by the text path
            }
        }

        var text = System.Text.Encoding.UTF8.GetString(body).TrimStart();
        if (text.StartsWith('{') || text.StartsWith('['))
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new FormatException($"invalid JSON: {ex.Message}", ex);
            }
        }

        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
        }
        catch (YamlException ex)
        {
            throw new FormatException($"invalid YAML at line {ex.Start.Line}: {ex.Message}", ex);
        }
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p =>
            KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", Convert(p.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any) || (!scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str"))
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (value.Length > 0 && (char.IsAsciiDigit(value[0]) || value[0] is '-' or '+' or '.')
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(value);
    }
}
