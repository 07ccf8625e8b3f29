using FleetFunctions.Orchestrations.Rollouts;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

public sealed class MessageListTests
{
    [Fact]
    public void Listed_MoreEntriesThanAMessageNames_FirstTwentyAndACountOfTheRest()
    {
        var fleets = Enumerable.Range(1, 1000).Select(i => $"ClusterFleet/fleet-{i:D4} (apps/fleet-{i:D4})").ToList();

        var listed = MessageList.Listed(fleets);
        var few = MessageList.Listed(fleets[..3]);

        Assert.StartsWith("ClusterFleet/fleet-0001 (apps/fleet-0001); ClusterFleet/fleet-0002", listed, StringComparison.Ordinal);
        Assert.EndsWith("ClusterFleet/fleet-0020 (apps/fleet-0020); and 980 more", listed, StringComparison.Ordinal);
        Assert.True(listed.Length < 1000, $"{listed.Length} characters");
        Assert.Equal("ClusterFleet/fleet-0001 (apps/fleet-0001); ClusterFleet/fleet-0002 (apps/fleet-0002); ClusterFleet/fleet-0003 (apps/fleet-0003)", few);
    }
}
