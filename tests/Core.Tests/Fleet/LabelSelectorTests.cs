using FleetFunctions.Core;
using FleetFunctions.Core.Fleet;
using Xunit;

namespace FleetFunctions.Core.Tests.Fleet;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> s_labels = new() { ["env"] = "prod", ["tier"] = "web" };

    [Theory]
    [InlineData(SelectorOperator.In, "tier", new[] { "web", "api" }, true)]
    [InlineData(SelectorOperator.In, "tier", new[] { "api" }, false)]
    [InlineData(SelectorOperator.In, "missing", new[] { "web" }, false)]
    [InlineData(SelectorOperator.NotIn, "tier", new[] { "api" }, true)]
    [InlineData(SelectorOperator.NotIn, "tier", new[] { "web" }, false)]
    [InlineData(SelectorOperator.NotIn, "missing", new[] { "web" }, true)]
    [InlineData(SelectorOperator.Exists, "env", new string[0], true)]
    [InlineData(SelectorOperator.Exists, "missing", new string[0], false)]
    [InlineData(SelectorOperator.DoesNotExist, "missing", new string[0], true)]
    [InlineData(SelectorOperator.DoesNotExist, "env", new string[0], false)]
    public void Matches_Expression_FollowsKubernetesSemantics(SelectorOperator op, string key, string[] values, bool expected)
    {
        var selector = new LabelSelector(new Dictionary<string, string>(), [new SelectorRequirement(key, op, values)]);

        Assert.Equal(expected, selector.Matches(s_labels));
    }

    [Fact]
    public void Matches_MatchLabelsAndExpressions_AllMustHold()
    {
        var selector = new LabelSelector(
            new Dictionary<string, string> { ["env"] = "prod" },
            [new SelectorRequirement("tier", SelectorOperator.In, ["db"])]);

        Assert.False(selector.Matches(s_labels));
        Assert.True(LabelSelector.Everything.Matches(s_labels));
        Assert.Equal("env=prod,tier in (db)", selector.ToString());
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("250ms", 250)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0", 0)]
    public void GoDuration_TryParse_AcceptsGoSyntax(string text, int milliseconds)
    {
        Assert.True(GoDuration.TryParseTimeSpan(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("five minutes")]
    [InlineData("1d")]
    [InlineData("")]
    public void GoDuration_TryParse_RejectsOtherText(string text) => Assert.False(GoDuration.TryParseTimeSpan(text, out _));
}
