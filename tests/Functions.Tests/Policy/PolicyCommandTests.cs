using System.CommandLine;
using System.Text.Json;
using FleetFunctions.Functions.Cli;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.Policy;

public sealed class PolicyCommandTests : IDisposable
{
    private static readonly string s_corpus = Path.Combine(RepoPaths.Shared, "conformance", "kyverno", "policies");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("policy-cli-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(PolicyCommand.Create());
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = root.Parse(["policy", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Test_WholeCorpus_ExitsZeroAndReportsEveryFile()
    {
        var (exit, output, _) = Run("test", s_corpus);

        Assert.Equal(0, exit);
        Assert.Contains("48/48 test files passed", output, StringComparison.Ordinal);
        Assert.Contains("Test Summary:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_MismatchingExpectation_ExitsOneAndShowsReason()
    {
        var source = Path.Combine(s_corpus, "other", "restrict-service-port-range");
        CopyDirectory(source, _dir.FullName);
        var testFile = Path.Combine(_dir.FullName, ".kyverno-test", "kyverno-test.yaml");
        File.WriteAllText(testFile, File.ReadAllText(testFile).Replace("result: pass", "result: fail", StringComparison.Ordinal));

        var (exit, output, _) = Run("test", _dir.FullName, "--fail-only");

        Assert.Equal(1, exit);
        Assert.Contains("Want fail, got pass", output, StringComparison.Ordinal);
        Assert.Contains("0/1 test files passed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_FolderWithoutTests_ExitsTwo()
    {
        var (exit, _, error) = Run("test", _dir.FullName);
        Assert.Equal(2, exit);
        Assert.Contains("no kyverno-test.yaml found", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_EnforceViolation_ExitsOneWithJsonViolations()
    {
        var policy = Path.Combine(s_corpus, "other", "prevent-cr8escape", "prevent-cr8escape.yaml");
        var manifests = Path.Combine(s_corpus, "other", "prevent-cr8escape", ".kyverno-test", "resources.yaml");

        var (exit, output, _) = Run("check", policy, manifests, "--output", "json");

        Assert.Equal(1, exit);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("blocked").GetBoolean());
        Assert.Equal(3, doc.RootElement.GetProperty("resources").GetInt32());
        var violation = Assert.Single(doc.RootElement.GetProperty("violations").EnumerateArray());
        Assert.Equal("Pod/badpod01", violation.GetProperty("resource").GetString());
        Assert.Equal("Enforce", violation.GetProperty("action").GetString());
        Assert.EndsWith("resources.yaml:2", violation.GetProperty("sourceFile").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AuditOnlyViolations_ExitsZeroWithTable()
    {
        var policies = Path.Combine(s_corpus, "pod-security");
        var manifests = Path.Combine(s_corpus, "pod-security", "baseline", "disallow-host-path", ".kyverno-test", "resource.yaml");

        var (exit, output, _) = Run("check", policies, manifests);

        Assert.Equal(0, exit);
        Assert.Contains("disallow-host-path", output, StringComparison.Ordinal);
        Assert.Contains("Enforce violations", output, StringComparison.Ordinal);
        Assert.Matches(@"\d+ resources checked: 0 Enforce violations, [1-9]\d* Audit violations\.", output);
    }

    [Fact]
    public void Check_InvalidPolicy_ExitsTwoNamingTheFile()
    {
        var policy = Path.Combine(_dir.FullName, "bad.yaml");
        File.WriteAllText(policy, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: bad\nspec:\n  rules:\n  - name: r\n    validate:\n      deny: {}\n");
        var manifest = Path.Combine(_dir.FullName, "m.yaml");
        File.WriteAllText(manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");

        var (exit, _, error) = Run("check", policy, manifest);

        Assert.Equal(2, exit);
        Assert.Contains($"{policy}:1: ClusterPolicy bad rule r: match is required", error, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.None }))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
