using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class CanonicalJsonTests
{
    [Theory]
    [InlineData("""{"a":1,"b":"x"}""", """{"b":"x","a":1.0}""", true)]
    [InlineData("""[1,2]""", """[2,1]""", false)]
    [InlineData("""{"a":"1"}""", """{"a":1}""", false)]
    [InlineData("""{"a":null}""", """{"a":null}""", true)]
    [InlineData("""{"a":true}""", """{"a":false}""", false)]
    [InlineData("""{"a":{"b":[{"c":2.5}]}}""", """{"a":{"b":[{"c":2.50}]}}""", true)]
    public void Equal_ParsedValues_MatchesJsonNodeDeepEquals(string left, string right, bool expected)
    {
        var l = JsonNode.Parse(left);
        var r = JsonNode.Parse(right);

        Assert.Equal(expected, CanonicalJson.Equal(l, r));
        Assert.Equal(JsonNode.DeepEquals(l, r), CanonicalJson.Equal(l, r));
    }

    [Fact]
    public void Equal_ParsedAndCreatedValues_CompareByValue()
    {
        Assert.True(CanonicalJson.Equal(JsonNode.Parse("\"nginx:1.27\""), JsonValue.Create("nginx:1.27")));
        Assert.True(CanonicalJson.Equal(JsonValue.Create("nginx:1.27"), JsonNode.Parse("\"nginx:1.27\"")));
        Assert.True(CanonicalJson.Equal(JsonValue.Create(2), JsonNode.Parse("2.0")));
        Assert.True(CanonicalJson.Equal(JsonValue.Create(2L), JsonValue.Create(2.0)));
        Assert.False(CanonicalJson.Equal(JsonValue.Create("a"), JsonValue.Create("b")));
    }

    [Fact]
    public void Write_KeyValues_UsesGoEscapingAndIntegralNumbers()
    {
        Assert.Equal("""{"a":"x\u003cy","n":80}""", CanonicalJson.Write(new JsonObject { ["n"] = 80.0, ["a"] = "x<y" }));
    }
}
