using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Hosting;

public sealed class AppOptionsTests
{
    private static readonly Dictionary<string, string?> s_required = new()
    {
        ["FLEETFUNCTIONS_Storage"] = "UseDevelopmentStorage=true",
        ["FLEETFUNCTIONS_PlatformRepository"] = "/srv/platform",
    };

    [Fact]
    public void From_EngineVisibilityTimeout_GoesToTheTaskHubsControlAndWorkItemQueues()
    {
        var options = AppOptions.From(Configuration(("FLEETFUNCTIONS_EngineVisibilityTimeout", "15s")));
        var services = new ServiceCollection().AddLogging().AddFleetFunctions(options);
        using var provider = services.BuildServiceProvider();

        var hub = provider.GetRequiredService<DurableTaskHub>();

        Assert.Equal(TimeSpan.FromSeconds(15), options.EngineVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), hub.Options.ControlMessageVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), hub.Options.WorkItemVisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), AppOptions.From(Configuration()).EngineVisibilityTimeout);
    }

    [Theory]
    [InlineData("1s")]
    [InlineData("soon")]
    public void From_EngineVisibilityTimeoutTooShortOrNotADuration_ErrorNamesTheSetting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AppOptions.From(Configuration(("FLEETFUNCTIONS_EngineVisibilityTimeout", value))));

        Assert.Contains($"FLEETFUNCTIONS_EngineVisibilityTimeout '{value}' must be a duration of at least 2s", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>(s_required);
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
