using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using Xunit;

namespace FleetFunctions.Core.Tests.Manifests;

public sealed class ManifestParserTests
{
    [Fact]
    public void Parse_MultiDocument_ReturnsEachObjectWithItsLine()
    {
        const string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n";

        var objects = ManifestParser.Parse(yaml, "app.yaml");

        Assert.Equal(["ConfigMap/a", "Secret/b"], objects.Select(o => o.ToString()));
        Assert.Equal(1, objects[0].Line);
        Assert.Equal(7, objects[1].Line);
        Assert.Equal("app.yaml:7", objects[1].Location);
    }

    [Fact]
    public void Parse_PlainAndQuotedScalars_FollowsCoreSchema()
    {
        const string yaml = "apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  n: 3\n  f: 1.5\n  b: true\n  s: \"3\"\n  v: 1.27\n  t: ~\n  word: yes\n";

        var spec = (JsonObject)ManifestParser.Parse(yaml, "x.yaml")[0].Object["spec"]!;

        Assert.Equal(3L, spec["n"]!.GetValue<long>());
        Assert.Equal(1.5, spec["f"]!.GetValue<double>());
        Assert.True(spec["b"]!.GetValue<bool>());
        Assert.Equal("3", spec["s"]!.GetValue<string>());
        Assert.Null(spec["t"]);
        Assert.Equal("yes", spec["word"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0644", 420L)]
    [InlineData("0440", 288L)]
    [InlineData("0o644", 420L)]
    [InlineData("0O644", 420L)]
    [InlineData("-0644", -420L)]
    [InlineData("0x1F", 31L)]
    [InlineData("+0x1f", 31L)]
    [InlineData("0b101", 5L)]
    [InlineData("0_644", 420L)]
    [InlineData("1_000", 1000L)]
    [InlineData("0", 0L)]
    [InlineData("08", 8L)]
    [InlineData("0999", 999L)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Parse_PlainIntegers_ReadAsKubernetesDoes(string plain, long expected)
    {
        var spec = ParseSpec($"mode: {plain}\n");

        Assert.Equal(expected, spec["mode"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("'0644'")]
    [InlineData("\"0x1F\"")]
    [InlineData("0x")]
    [InlineData("0o")]
    [InlineData("09x")]
    [InlineData("0z5")]
    [InlineData("0b102")]
    [InlineData("_1")]
    [InlineData("1-2")]
    public void Parse_QuotedOrNotANumber_StaysString(string scalar)
    {
        var spec = ParseSpec($"mode: {scalar}\n");

        Assert.Equal(scalar.Trim('\'', '"'), spec["mode"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_FloatsWithUnderscoresAndLeadingZeros_ReadAsKubernetesDoes()
    {
        var spec = ParseSpec("{a: 1_000.5, b: 08.5, c: .5}\n");

        Assert.Equal(1000.5, spec["a"]!.GetValue<double>());
        Assert.Equal(8.5, spec["b"]!.GetValue<double>());
        Assert.Equal(0.5, spec["c"]!.GetValue<double>());
    }

    [Fact]
    public void Parse_AliasReusedTwiceAndMerged_ExpandsEachCopy()
    {
        const string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: &labels {app: web, tier: front}\n" +
            "spec:\n  selector: {matchLabels: *labels}\n  template:\n    metadata: {labels: {<<: *labels, extra: x}}\n";

        var obj = ManifestParser.Parse(yaml, "web.yaml")[0].Object;

        Assert.Equal("""{"app":"web","tier":"front"}""", obj["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
        Assert.Equal("""{"app":"web","tier":"front","extra":"x"}""", obj["spec"]!["template"]!["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal(obj["metadata"]!["labels"]!.ToJsonString(), obj["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
    }

    [Theory]
    [InlineData("data: &x [*x]\n")]
    [InlineData("data: &x {a: *x}\n")]
    [InlineData("data: &x {<<: *x}\n")]
    [InlineData("data: &x [[a, {b: [*x]}]]\n")]
    public void Parse_AliasInsideItsOwnAnchor_ThrowsNamingFileAndLine(string data)
    {
        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" + data, "app/cycle.yaml"));

        Assert.StartsWith("app/cycle.yaml:4: the node anchored &x contains its own alias *x", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AliasBomb_ThrowsAtTheExpansionLimit()
    {
        // Nine levels of nine aliases: 9^9 (387 million) scalars once expanded.
        var yaml = new System.Text.StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  l0: &l0 lol\n");
        for (var level = 1; level <= 9; level++)
        {
            yaml.Append($"  l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 9))}]\n");
        }

        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse(yaml.ToString(), "bomb.yaml"));

        Assert.Matches(@"^bomb\.yaml:1[0-3]: the aliases of &l[0-8] and of the anchors inside it expand to more than 1,000,000 nodes", error.Errors[0]);
    }

    [Fact]
    public void Parse_NestedBeyondMaxDepth_ThrowsNamingTheLine()
    {
        var tooDeep = "apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  " + new string('[', 1_000) + new string(']', 1_000) + "\n";

        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse(tooDeep, "deep.yaml"));

        Assert.StartsWith("deep.yaml:5: mappings and sequences nest more than 64 levels deep", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestedToMaxDepth_ParsesAndSerializes()
    {
        var levels = ManifestParser.MaxDepth - 1;
        var yaml = "apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec: " + new string('[', levels) + new string(']', levels) + "\n";

        var obj = ManifestParser.Parse(yaml, "deep.yaml")[0];

        Assert.Equal(64, obj.Checksum.Length);
        Assert.False(obj.Utf8Json.IsEmpty);
    }

    [Theory]
    [InlineData("ghp_s3cr3tT0ken\n", "scalar")]
    [InlineData("- ghp_s3cr3tT0ken\n", "sequence")]
    public void Parse_DocumentNotAMapping_NamesKindButNotContent(string yaml, string kind)
    {
        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse(yaml, "linked/token"));

        Assert.Equal($"linked/token:1: a Kubernetes object must be a YAML mapping, found a {kind}.", error.Errors[0]);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("? [a, b]\n: c\n", "sequence")]
    [InlineData("? {a: b}\n: c\n", "mapping")]
    [InlineData("? &x [*x]\n: c\n", "sequence")]
    [InlineData("a: &x {b: c}\n*x : d\n", "alias of a mapping")]
    public void Parse_CollectionAsKey_ThrowsNamingKind(string entry, string kind)
    {
        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse("apiVersion: v1\nkind: X\n" + entry, "key.yaml"));

        Assert.Equal($"key.yaml:{(kind.StartsWith("alias", StringComparison.Ordinal) ? 4 : 3)}: a mapping key is a {kind}; Kubernetes objects have string keys only.", error.Errors[0]);
    }

    [Fact]
    public void Parse_AliasOfScalarAsKey_IsThatString()
    {
        var obj = ManifestParser.Parse("apiVersion: v1\nkind: X\nk: &key name\n*key : value\n", "key.yaml")[0].Object;

        Assert.Equal("value", obj["name"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_MalformedYaml_ThrowsWithPathAndLine()
    {
        var error = Assert.Throws<ManifestException>(() => ManifestParser.Parse("a: [unclosed\nb: c\n", "dir/bad.yaml"));

        Assert.StartsWith("dir/bad.yaml:", error.Errors[0], StringComparison.Ordinal);
        Assert.Contains("malformed YAML", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KindList_ExpandsItems()
    {
        const string yaml = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";

        var objects = ManifestParser.Parse(yaml, "list.yaml");

        Assert.Equal(2, objects.Count);
    }

    [Fact]
    public void Checksum_SameContentDifferentKeyOrder_IsEqual()
    {
        var a = ManifestParser.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1', y: '2'}\n", "a.yaml")[0];
        var b = ManifestParser.Parse("kind: ConfigMap\napiVersion: v1\ndata: {y: '2', x: '1'}\nmetadata: {name: a}\n", "b.yaml")[0];
        var c = ManifestParser.Parse("kind: ConfigMap\napiVersion: v1\ndata: {y: '3', x: '1'}\nmetadata: {name: a}\n", "c.yaml")[0];

        Assert.Equal(a.Checksum, b.Checksum);
        Assert.NotEqual(a.Checksum, c.Checksum);
    }

    [Fact]
    public void Create_DuplicateObject_ThrowsNamingBothFiles()
    {
        var first = ManifestParser.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: demo}\n", "a.yaml");
        var second = ManifestParser.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: demo}\n", "b.yaml");

        var error = Assert.Throws<ManifestException>(() => ManifestSet.Create(first.Concat(second)));

        Assert.Contains("b.yaml:1", error.Message, StringComparison.Ordinal);
        Assert.Contains("a.yaml:1", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigMap/demo/same", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_SameNameDifferentGroup_IsNotDuplicate()
    {
        var objects = ManifestParser.Parse(
            "apiVersion: v1\nkind: Widget\nmetadata: {name: a}\n---\napiVersion: example.io/v1\nkind: Widget\nmetadata: {name: a}\n", "w.yaml");

        var set = ManifestSet.Create(objects);

        Assert.Equal(2, set.Count);
    }

    [Fact]
    public void Create_MissingKindAndName_ListsEveryProblem()
    {
        var objects = ManifestParser.Parse("apiVersion: v1\nmetadata: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "x.yaml");

        var error = Assert.Throws<ManifestException>(() => ManifestSet.Create(objects));

        Assert.Equal(2, error.Errors.Count);
        Assert.Contains("kind, metadata.name", error.Errors[0], StringComparison.Ordinal);
        Assert.StartsWith("x.yaml:4", error.Errors[1], StringComparison.Ordinal);
    }

    private static JsonObject ParseSpec(string spec) =>
        (JsonObject)ManifestParser.Parse("apiVersion: v1\nkind: X\nmetadata: {name: a}\nspec:\n  " + spec, "x.yaml")[0].Object["spec"]!;
}
