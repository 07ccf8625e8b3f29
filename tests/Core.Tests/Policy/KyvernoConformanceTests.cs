using FleetFunctions.Core.Policy.Testing;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>Runs every kyverno-test.yaml of the conformance corpus (Kyverno's policy library) and of our own testdata.</summary>
public sealed class KyvernoConformanceTests
{
    private static readonly string s_corpus = Path.Combine(RepoPaths.Shared, "conformance", "kyverno");
    private static readonly string s_own = Path.Combine(AppContext.BaseDirectory, "testdata", "policy");

    public static TheoryData<string> CorpusCases() => Cases(s_corpus);

    public static TheoryData<string> OwnCases() => Cases(s_own);

    private static TheoryData<string> Cases(string root)
    {
        var data = new TheoryData<string>();
        foreach (var file in KyvernoTestCase.Discover(root))
        {
            data.Add(Path.GetRelativePath(root, file));
        }

        return data;
    }

    [Fact]
    public void Discover_Corpus_FindsAll48Cases()
    {
        Assert.Equal(48, KyvernoTestCase.Discover(s_corpus).Count);
    }

    [Theory]
    [MemberData(nameof(CorpusCases))]
    public void Run_CorpusCase_EveryResultAsExpected(string testFile) => AssertPasses(Path.Combine(s_corpus, testFile));

    [Theory]
    [MemberData(nameof(OwnCases))]
    public void Run_OwnCase_EveryResultAsExpected(string testFile) => AssertPasses(Path.Combine(s_own, testFile));

    private static void AssertPasses(string path)
    {
        var result = KyvernoTestRunner.Run(path);
        Assert.Null(result.Error);
        Assert.NotEmpty(result.Rows);
        var failures = result.Rows.Where(r => !r.Ok).Select(r => $"#{r.Id} {r.Policy}/{r.Rule} {r.Resource}: {r.Reason}").ToList();
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Run_ExpectationContradictsEngine_RowFailsWithReason()
    {
        var dir = Directory.CreateTempSubdirectory("policy-runner-");
        try
        {
            var source = Path.Combine(s_own, "anchors");
            foreach (var file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(dir.FullName, Path.GetFileName(file)));
            }

            var testFile = Path.Combine(dir.FullName, "kyverno-test.yaml");
            File.WriteAllText(testFile, File.ReadAllText(testFile).Replace("resources: [host-network]\n  result: fail", "resources: [host-network]\n  result: pass", StringComparison.Ordinal));

            var result = KyvernoTestRunner.Run(testFile);

            Assert.False(result.Passed);
            var bad = Assert.Single(result.Rows, r => !r.Ok && r.Rule == "negation");
            Assert.Equal("fail", bad.Actual);
            Assert.Contains("Want pass, got fail", bad.Reason, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
