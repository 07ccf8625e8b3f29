using System.Collections.Frozen;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Patching;
using FleetFunctions.Simulator.Selectors;
using FleetFunctions.Simulator.Serialization;
using Xunit;

namespace FleetFunctions.Simulator.Tests;

/// <summary>Pure units: label selectors, patches, YAML bodies.</summary>
public sealed class SelectorAndPatchTests
{
    private static readonly FrozenDictionary<string, string> s_labels =
        new Dictionary<string, string> { ["app"] = "shop", ["tier"] = "web" }.ToFrozenDictionary();

    [Theory]
    [InlineData("app=shop", true)]
    [InlineData("app = shop , tier in (web, db)", true)]
    [InlineData("app!=shop", false)]
    [InlineData("tier notin (web)", false)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("example.com/role", false)]
    public void LabelSelector_Parse_MatchesLikeKubernetes(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(s_labels));

    [Theory]
    [InlineData("app in shop")]
    [InlineData("bad key=1")]
    public void LabelSelector_Malformed_ThrowsFormatException(string selector) =>
        Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));

    [Fact]
    public void FieldSelector_UnsupportedField_ThrowsFormatException() =>
        Assert.Contains("status.phase", Assert.Throws<FormatException>(() => FieldSelector.Parse("status.phase=Running")).Message, StringComparison.Ordinal);

    [Fact]
    public void MergePatch_NullRemovesAndObjectsMerge()
    {
        var result = MergePatch.Apply(JsonNode.Parse("""{"a":1,"b":{"c":2,"d":3},"e":[1,2]}"""), JsonNode.Parse("""{"a":null,"b":{"c":5},"e":[3]}"""));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"b":{"c":5,"d":3},"e":[3]}"""), result));
    }

    [Fact]
    public void JsonPatch_AddReplaceRemoveMoveTest_AppliesInOrder()
    {
        var ops = JsonNode.Parse("""[{"op":"add","path":"/list/-","value":3},{"op":"replace","path":"/a","value":"x"},{"op":"move","from":"/b","path":"/c"},{"op":"test","path":"/c","value":2},{"op":"remove","path":"/list/0"}]""")!.AsArray();

        var result = JsonPatch.Apply(JsonNode.Parse("""{"a":1,"b":2,"list":[1,2]}"""), ops);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":"x","list":[2,3],"c":2}"""), result));
    }

    [Fact]
    public void StrategicMergePatch_ListsOfNamedObjects_MergeByNameAndHonourDelete()
    {
        var live = JsonNode.Parse("""{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}""");
        var patch = JsonNode.Parse("""{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a","image":"a:2"},{"name":"b","$patch":"delete"},{"name":"c","image":"c:1"}]}""");

        var result = StrategicMergePatch.Apply(live, patch);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"containers":[{"name":"a","image":"a:2"},{"name":"c","image":"c:1"}]}"""), result), result?.ToJsonString());
    }

    [Fact]
    public void YamlJson_ScalarsKeepTheirYamlTypes()
    {
        var node = YamlJson.Parse("a: 1\nb: \"1\"\nc: true\nd: ~\ne: 1.5\nf: web\ng: [x, 2]\n"u8);

        Assert.Equal("""{"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"web","g":["x",2]}""", node!.ToJsonString());
    }
}

/// <summary>Server-side printing helpers.</summary>
public sealed class TableColumnsTests
{
    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(125, "2m5s")]
    [InlineData(600, "10m")]
    [InlineData(4 * 3600 + 60, "4h1m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 3600, "3d1h")]
    [InlineData(100 * 86400, "100d")]
    public void HumanDuration_FormatsLikeKubectl(int seconds, string expected) =>
        Assert.Equal(expected, FleetFunctions.Simulator.Api.TableColumns.HumanDuration(TimeSpan.FromSeconds(seconds)));
}

/// <summary>Protobuf request bodies as kubectl 1.32 sends them.</summary>
public sealed class ProtobufBodyTests
{
    // kubectl create configmap cfg -n default --from-literal=a=1 --from-literal=b=two
    private const string ConfigMapBody =
        "6b3873000a0f0a0276311209436f6e6669674d6170122e0a1a0a036366671200" +
        "1a0764656661756c7422002a0032003800420012060a016112013112080a0162120374776f1a002200";

    [Fact]
    public void TryDecode_ConfigMapFromKubectl_YieldsJsonObject()
    {
        var obj = FleetFunctions.Simulator.Serialization.ProtobufBody.TryDecode(Convert.FromHexString(ConfigMapBody));

        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default"},"data":{"a":"1","b":"two"}}""", obj!.ToJsonString());
    }

    [Fact]
    public void TryDecode_NotAKubernetesEnvelope_ReturnsNull() =>
        Assert.Null(FleetFunctions.Simulator.Serialization.ProtobufBody.TryDecode("{}"u8));
}
