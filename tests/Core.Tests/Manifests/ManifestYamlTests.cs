using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using Xunit;

namespace FleetFunctions.Core.Tests.Manifests;

public sealed class ManifestYamlTests
{
    [Fact]
    public void Write_ThenParse_SameObjects()
    {
        var objects = new[]
        {
            (JsonObject)JsonNode.Parse("""
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"on": "yes"}},
                 "data": {"bool": "true", "int": "1234", "float": "1.5e3", "hex": "0x1F", "sexagesimal": "1:30", "underscored": "1_000",
                          "null": "null", "tilde": "~", "empty": "", "yes": "yes", "off": "OFF", "colon": "a: b", "hash": "# not a comment",
                          "dash": "- item", "quote": "it's \"quoted\"", "block": "line 1\nline 2\n", "unicode": "grüße", "plain": "hello world"},
                 "spec": {"replicas": 3, "ratio": 0.25, "enabled": false, "nothing": null, "list": [1, "2", {"a": []}, {}]}}
                """)!,
            (JsonObject)JsonNode.Parse("""{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}""")!,
        };

        var yaml = ManifestYaml.Write(objects);
        var parsed = ManifestParser.Parse(yaml, "written");

        Assert.Equal(2, parsed.Count);
        Assert.True(JsonNode.DeepEquals(objects[0], parsed[0].Object), yaml);
        Assert.True(JsonNode.DeepEquals(objects[1], parsed[1].Object), yaml);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("on")]
    [InlineData("1234")]
    [InlineData("0x1F")]
    [InlineData("0644")]
    [InlineData("0o644")]
    [InlineData("08")]
    [InlineData("1_000")]
    [InlineData("true")]
    public void Write_StringsAYaml11ReaderTakesForOtherTypes_AreQuoted(string value)
    {
        var yaml = ManifestYaml.Write([new JsonObject { ["v"] = value }]);

        Assert.Contains($"v: \"{value}\"", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_MultiLineString_LiteralBlock()
    {
        var yaml = ManifestYaml.Write([new JsonObject { ["config"] = "retries: 3\nverbose: yes\n" }]);

        Assert.Equal("---\nconfig: |\n  retries: 3\n  verbose: yes\n", yaml);
    }
}
