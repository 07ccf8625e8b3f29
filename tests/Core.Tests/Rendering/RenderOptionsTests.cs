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
        // FLEETFUNCTIONS_KUBECTL (set by scripts/test.sh) would win over both: out of the way for the test.
        var configured = Environment.GetEnvironmentVariable(RenderOptions.KubectlVariable);
        Environment.SetEnvironmentVariable(RenderOptions.KubectlVariable, null);
        var published = Path.Combine(AppContext.BaseDirectory, RenderOptions.PublishedKubectl);
        try
        {
            var machine = RenderOptions.DefaultKustomizeCommand();
            Assert.False(File.Exists(published), $"{published} exists before the test");
            Directory.CreateDirectory(Path.GetDirectoryName(published)!);
            File.CreateSymbolicLink(published, configured ?? (Path.IsPathRooted(machine) ? machine : "/usr/bin/kubectl"));

            Assert.Equal(published, RenderOptions.DefaultKustomizeCommand());
            File.Delete(published);
            Assert.Equal(machine, RenderOptions.DefaultKustomizeCommand());
        }
        finally
        {
            File.Delete(published);
            Environment.SetEnvironmentVariable(RenderOptions.KubectlVariable, configured);
        }
    }
}
