using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class YamlDocumentsTests
{
    [Fact]
    public void Parse_KubernetesScalars_ResolvedLikeGoYamlV2()
    {
        var doc = YamlDocuments.Parse("x.yaml", """
            a: yes
            b: off
            c: ~
            d: 0755
            e: 1e3
            f: "yes"
            g: 2024-01-01
            h: 1.5
            i: 0x1F
            """).Single();
        var o = (JsonObject)doc.Root!;
        Assert.Equal("{\"a\":true,\"b\":false,\"c\":null,\"d\":493,\"e\":1000,\"f\":\"yes\",\"g\":\"2024-01-01\",\"h\":1.5,\"i\":31}", JsonUtil.Marshal(o));
        Assert.Equal(GoKind.Int, JsonUtil.Kind(o["e"]));
        Assert.Equal(GoKind.Float, JsonUtil.Kind(o["h"]));
    }

    [Theory]
    [InlineData("spec: &x {rules: [*x]}\n", "p.yaml:1: the node anchored &x contains its own alias *x")]
    [InlineData("? &x [*x]\n: value\n", "p.yaml:1:")]
    public void Parse_AliasThatRepeatsWithoutEnd_RefusedNamingTheFileInsteadOfCrashing(string yaml, string expected)
    {
        var error = Assert.Throws<PolicyLoadException>(() => YamlDocuments.Parse("p.yaml", yaml));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AliasesAndMergeKeysThatRepeatANodeTwice_StillRead()
    {
        var document = Assert.Single(YamlDocuments.Parse("p.yaml", "defaults: &d {a: 1}\nfirst: *d\nsecond: {<<: *d, b: 2}\n"));

        Assert.Equal(1, document.Root!["first"]!["a"]!.GetValue<long>());
        Assert.Equal(2, document.Root!["second"]!["b"]!.GetValue<long>());
        Assert.Equal(1, document.Root!["second"]!["a"]!.GetValue<long>());
    }

    [Fact]
    public void Parse_MultipleDocuments_ReportsStartLinesAndSkipsEmpty()
    {
        var docs = YamlDocuments.Parse("m.yaml", "a: 1\n---\n---\n# comment\nb: 2\n");
        Assert.Equal(2, docs.Count);
        Assert.Equal(1, docs[0].Line);
        Assert.Equal(5, docs[1].Line);
    }

    [Fact]
    public void Parse_InvalidYaml_ErrorNamesFileAndLine()
    {
        var ex = Assert.Throws<PolicyLoadException>(() => YamlDocuments.Parse("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n"));
        Assert.StartsWith("bad.yaml:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MergeKeys_CopyMissingKeys()
    {
        var doc = YamlDocuments.Parse("m.yaml", "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n").Single();
        Assert.Equal("{\"x\":1,\"y\":3}", JsonUtil.Marshal(doc.Root!["derived"]));
    }
}
