using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class ValuePatternTests
{
    [Theory]
    [InlineData("\"nginx:1.25\"", "*:*", true)]
    [InlineData("\"nginx\"", "*:*", false)]
    [InlineData("\"a\"", "?*", true)]
    [InlineData("\"\"", "?*", false)]
    [InlineData("\"nginx:latest\"", "!*:latest", false)]
    [InlineData("\"ghcr.io/x\"", "eu.foo.io/* | ghcr.io/*", true)]
    [InlineData("\"a=b\"", "!*+* & !*=*", false)]
    [InlineData("\"ab\"", "!*+* & !*=*", true)]
    [InlineData("5", ">0", true)]
    [InlineData("0", ">0", false)]
    [InlineData("null", ">0", false)]
    [InlineData("\"512Mi\"", "<=1Gi", true)]
    [InlineData("\"2Gi\"", "<=1Gi", false)]
    [InlineData("\"1500m\"", "1-2", true)]
    [InlineData("\"3\"", "1-2", false)]
    [InlineData("80", "1!-1023", false)]
    [InlineData("8080", "1!-1023", true)]
    [InlineData("\"90m\"", "<2h", true)]
    [InlineData("\"3h\"", "<2h", false)]
    [InlineData("false", "false", true)]
    [InlineData("true", "false", false)]
    [InlineData("\"true\"", "true", true)]
    [InlineData("7", "7", true)]
    [InlineData("8", "!7", true)]
    public void Validate_StringPattern_MatchesLikeKyverno(string valueJson, string pattern, bool expected)
    {
        Assert.Equal(expected, ValuePattern.Validate(JsonNode.Parse(valueJson), JsonValue.Create(pattern)));
    }

    [Theory]
    [InlineData("null", "null", true)]
    [InlineData("0", "null", true)]
    [InlineData("\"\"", "null", true)]
    [InlineData("false", "null", true)]
    [InlineData("\"x\"", "null", false)]
    [InlineData("{}", "null", false)]
    [InlineData("3", "3", true)]
    [InlineData("\"3\"", "3", true)]
    [InlineData("3.0", "3", true)]
    [InlineData("2.5", "2.5", true)]
    [InlineData("true", "true", true)]
    [InlineData("\"true\"", "true", false)]
    [InlineData("{\"a\":1}", "{}", true)]
    public void Validate_TypedPattern_MatchesLikeKyverno(string valueJson, string patternJson, bool expected)
    {
        Assert.Equal(expected, ValuePattern.Validate(JsonNode.Parse(valueJson), JsonNode.Parse(patternJson)));
    }

    [Theory]
    [InlineData("web-*", "web-1", true)]
    [InlineData("web-?", "web-12", false)]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "aXXbYc", true)]
    [InlineData("a*b*c", "aXXbY", false)]
    public void Wildcard_Match_StarAndQuestionMark(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, Wildcard.Match(pattern, text));
    }

    [Theory]
    [InlineData("1Gi", "1024Mi", 0)]
    [InlineData("1500m", "1.5", 0)]
    [InlineData("1k", "999", 1)]
    [InlineData("1e3", "1k", 0)]
    [InlineData("100m", "0.2", -1)]
    public void Quantity_Compare_UsesExactValues(string a, string b, int expected)
    {
        Assert.True(Quantity.TryParse(a, out var qa));
        Assert.True(Quantity.TryParse(b, out var qb));
        Assert.Equal(expected, Math.Sign(qa.CompareTo(qb)));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1Gx")]
    [InlineData("")]
    [InlineData("1h")]
    public void Quantity_TryParse_RejectsNonQuantities(string text)
    {
        Assert.False(Quantity.TryParse(text, out _));
    }

    [Theory]
    [InlineData("1h30m", 5_400_000_000_000L)]
    [InlineData("1.5h", 5_400_000_000_000L)]
    [InlineData("300ms", 300_000_000L)]
    [InlineData("-2s", -2_000_000_000L)]
    [InlineData("0", 0L)]
    public void GoDuration_TryParse_ParsesGoSyntax(string text, long nanos)
    {
        Assert.True(GoDuration.TryParse(text, out var parsed));
        Assert.Equal(nanos, parsed);
    }

    [Theory]
    [InlineData(5_400_000_000_000L, "1h30m0s")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(0L, "0s")]
    [InlineData(172_800_000_000_000L, "48h0m0s")]
    public void GoDuration_Format_PrintsLikeGo(long nanos, string expected)
    {
        Assert.Equal(expected, GoDuration.Format(nanos));
    }
}
