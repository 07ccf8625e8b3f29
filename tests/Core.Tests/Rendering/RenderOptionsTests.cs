using FleetFunctions.Core.Rendering;
using Xunit;

namespace FleetFunctions.Core.Tests.Rendering;

public sealed class RenderOptionsTests
{
    [Fact]
    public void DefaultKustomizeCommand_KubectlPublishedBesideTheApp_UsedBeforeAnyOnTheMachine()
    {
        // What scripts/publish.sh ships: the machine's kubectl as tools/kubectl beside the app (a link to it here, so tests
        // running meanwhile render with the same binary).
        var machine = RenderOptions.DefaultKustomizeCommand();
        var published = Path.Combine(AppContext.BaseDirectory, RenderOptions.PublishedKubectl);
        Assert.False(File.Exists(published), $"{published} exists before the test");
        Directory.CreateDirectory(Path.GetDirectoryName(published)!);
        File.CreateSymbolicLink(published, Path.IsPathRooted(machine) ? machine : "/usr/bin/kubectl");
        try
        {
            Assert.Equal(published, RenderOptions.DefaultKustomizeCommand());
        }
        finally
        {
            File.Delete(published);
        }

        Assert.Equal(machine, RenderOptions.DefaultKustomizeCommand());
    }
}
