using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Secrets;

public sealed class SealedSecretResealerTests
{
    private static readonly string s_fleetFunctions = SealingTestKeys.NewPem("fleetfunctions");
    private static readonly string s_eu = SealingTestKeys.NewPem("eu-1");
    private static readonly string s_us = SealingTestKeys.NewPem("us-1");

    [Theory]
    [InlineData(SealingScope.Strict)]
    [InlineData(SealingScope.NamespaceWide)]
    [InlineData(SealingScope.ClusterWide)]
    public async Task ResealAsync_EachScope_TheClusterUnsealsWithItsOwnKeyAndTheSameScope(SealingScope scope)
    {
        var resealer = NewResealer();
        var desired = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["password"] = "hunter2", ["user"] = "admin" }, scope));

        var eu = (await resealer.ResealAsync("eu-1", desired)).Objects.Single();

        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_eu, SealingTestKeys.EncryptedValue(eu.Object, "password"), "apps", "db", scope));
        Assert.Equal("admin", SealingTestKeys.Unseal(s_eu, SealingTestKeys.EncryptedValue(eu.Object, "user"), "apps", "db", scope));
        Assert.Equal(desired.Objects[0].Object["spec"]!["template"]!.ToJsonString(), eu.Object["spec"]!["template"]!.ToJsonString());
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => SealingTestKeys.Unseal(s_us, SealingTestKeys.EncryptedValue(eu.Object, "password"), "apps", "db", scope));
    }

    [Fact]
    public async Task ResealAsync_AgainOrAfterKubesealSealedTheSameValueAgain_SameObject_OtherClusters_OtherValues()
    {
        var values = new Dictionary<string, string> { ["password"] = "hunter2" };
        var first = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", values));
        var resealedAgainInGit = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", values));
        Assert.NotEqual(first.Objects[0].Checksum, resealedAgainInGit.Objects[0].Checksum);

        var eu = (await NewResealer().ResealAsync("eu-1", first)).Objects[0];
        var euAfterRestart = (await NewResealer().ResealAsync("eu-1", resealedAgainInGit)).Objects[0];
        var us = (await NewResealer().ResealAsync("us-1", first)).Objects[0];

        Assert.Equal(eu.Checksum, euAfterRestart.Checksum);
        Assert.NotEqual(SealingTestKeys.EncryptedValue(eu.Object, "password"), SealingTestKeys.EncryptedValue(us.Object, "password"));
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_us, SealingTestKeys.EncryptedValue(us.Object, "password"), "apps", "db"));
    }

    [Fact]
    public async Task ResealAsync_FleetFunctionsKeyRotated_OldValuesStillUnseal_ReSealedUnderTheNewKey()
    {
        var desired = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["password"] = "hunter2" }));
        var next = SealingTestKeys.NewPem("fleetfunctions-next");
        var rotated = next + s_fleetFunctions[s_fleetFunctions.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)..];
        var keys = new SwitchableKeys(SealingKeys.Parse(s_fleetFunctions, "before"));
        var certificates = new FixedSealingCertificates(new Dictionary<string, string?> { ["eu-1"] = SealingTestKeys.CertificateOf(s_eu) });
        var resealer = new SealedSecretResealer(keys, certificates);

        var before = (await resealer.ResealAsync("eu-1", desired)).Objects[0];
        keys.Current = SealingKeys.Parse(rotated, "after");
        var after = (await resealer.ResealAsync("eu-1", desired)).Objects[0];
        var elsewhere = (await new SealedSecretResealer(new SwitchableKeys(SealingKeys.Parse(rotated, "after")), certificates).ResealAsync("eu-1", desired)).Objects[0];

        Assert.NotEqual(before.Checksum, after.Checksum);
        Assert.Equal(elsewhere.Checksum, after.Checksum);
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_eu, SealingTestKeys.EncryptedValue(after.Object, "password"), "apps", "db"));
    }

    [Fact]
    public async Task ResealAsync_SecondPassOverMoreValuesAndClustersThanTheOldCacheHeld_EachValueDecryptedOnce()
    {
        // 21 clusters × 400 values: 8,400 re-sealed values, more than the 8,192 the cache of re-sealed values used to hold
        // (cleared all at once when full, so a cyclic pass found none of them and decrypted every value for every cluster).
        var keys = Enumerable.Range(0, 21).ToDictionary(i => $"c{i}", i => SealingTestKeys.NewPem($"c{i}"));
        var clusters = keys.ToDictionary(k => k.Key, k => (string?)SealingTestKeys.CertificateOf(k.Value));
        var desired = Parse(string.Join("---\n", Enumerable.Range(0, 40).Select(i =>
            SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", $"s{i}", Enumerable.Range(0, 10).ToDictionary(k => $"k{k}", k => $"value-{i}-{k}")))));
        var resealer = new SealedSecretResealer(new FixedKeys(SealingKeys.Parse(s_fleetFunctions, "test")), new FixedSealingCertificates(clusters));

        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var cluster in clusters.Keys)
            {
                await resealer.ResealAsync(cluster, desired);
            }
        }

        Assert.Equal(400, resealer.Decryptions);
        var last = (await resealer.ResealAsync("c20", desired)).Objects[39];
        Assert.Equal("value-39-9", SealingTestKeys.Unseal(keys["c20"], SealingTestKeys.EncryptedValue(last.Object, "k9"), "apps", "s39"));
    }

    [Fact]
    public async Task ResealAsync_PlaintextUnusedForItsLifetime_ForgottenAndUnsealedAgainForTheNextCluster()
    {
        var time = new ManualTime();
        var ap = SealingTestKeys.NewPem("ap-1");
        var resealer = new SealedSecretResealer(
            new FixedKeys(SealingKeys.Parse(s_fleetFunctions, "test")),
            new FixedSealingCertificates(new Dictionary<string, string?> { ["eu-1"] = SealingTestKeys.CertificateOf(s_eu), ["us-1"] = SealingTestKeys.CertificateOf(s_us), ["ap-1"] = SealingTestKeys.CertificateOf(ap) }),
            time);
        var desired = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["password"] = "hunter2" }));

        await resealer.ResealAsync("eu-1", desired);
        await resealer.ResealAsync("us-1", desired);
        var whileRemembered = resealer.Decryptions;
        time.Now += SealedSecretResealer.PlaintextLifetime + TimeSpan.FromSeconds(1);
        await resealer.ResealAsync("eu-1", desired);
        var reSealedRemembered = resealer.Decryptions;
        var forAp = (await resealer.ResealAsync("ap-1", desired)).Objects[0];

        Assert.Equal(1, whileRemembered);
        Assert.Equal(1, reSealedRemembered);
        Assert.Equal(2, resealer.Decryptions);
        Assert.Equal("hunter2", SealingTestKeys.Unseal(ap, SealingTestKeys.EncryptedValue(forAp.Object, "password"), "apps", "db"));
    }

    [Fact]
    public async Task ResealAsync_NoSealedSecrets_TheSameSetWithoutReadingKeys()
    {
        var desired = Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: apps\n");
        var resealer = new SealedSecretResealer(new FixedKeys(null), new FixedSealingCertificates(new Dictionary<string, string?>()));

        Assert.Same(desired, await resealer.ResealAsync("eu-1", desired));
    }

    [Fact]
    public async Task ResealAsync_ClusterWithoutCertificate_NamesTheClusterTheSecretAndTheFix()
    {
        var desired = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["password"] = "x" }));

        var e = await Assert.ThrowsAsync<SealingException>(() => NewResealer().ResealAsync("bare", desired));

        Assert.StartsWith("Cluster/bare: has no spec.sealingCertificate, so test.yaml:1: SealedSecret/apps/db cannot be re-sealed", e.Message, StringComparison.Ordinal);
        Assert.Contains("kubeseal --fetch-cert", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResealAsync_SealedForAnotherKeyOrName_NamesEachValueAndScope()
    {
        var forCluster = SealingTestKeys.SealedSecretYaml(s_eu, "apps", "db", new Dictionary<string, string> { ["password"] = "x" });
        var renamed = SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["token"] = "y" }).Replace("name: db", "name: cache", StringComparison.Ordinal);
        var desired = Parse(forCluster + "---\n" + renamed);

        var e = await Assert.ThrowsAsync<SealingException>(() => NewResealer().ResealAsync("eu-1", desired));

        Assert.Contains("SealedSecret/apps/db: spec.encryptedData.password cannot be unsealed with FleetFunctions' sealing key for the strict scope (label \"apps/db\")", e.Message, StringComparison.Ordinal);
        Assert.Contains("SealedSecret/apps/cache: spec.encryptedData.token cannot be unsealed", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("Nothing was applied to eu-1.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResealAsync_AnnotatedNotToReseal_AppliedAsWritten()
    {
        var yaml = SealingTestKeys.SealedSecretYaml(s_eu, "apps", "db", new Dictionary<string, string> { ["password"] = "x" })
            .Replace("  namespace: apps\nspec:", "  namespace: apps\n  annotations:\n    fleetfunctions.io/reseal: \"false\"\nspec:", StringComparison.Ordinal);
        var desired = Parse(yaml);

        var result = await NewResealer().ResealAsync("bare", desired);

        Assert.Equal(desired.Objects[0].Checksum, result.Objects[0].Checksum);
    }

    [Fact]
    public async Task ResealAsync_DeprecatedDataField_SaysToSealAgain()
    {
        var desired = Parse("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: old\n  namespace: apps\nspec:\n  data: AAAA\n");

        var e = await Assert.ThrowsAsync<SealingException>(() => NewResealer().ResealAsync("eu-1", desired));

        Assert.Contains("SealedSecret/apps/old: spec.data is the sealed-secrets format before v0.7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResealAsync_NoSealingKey_TheKeySourcesMessage()
    {
        var desired = Parse(SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "apps", "db", new Dictionary<string, string> { ["password"] = "x" }));
        var resealer = new SealedSecretResealer(new SecretStoreSealingKeys(new DirectorySecretStore(Path.GetTempPath()), "no-such-sealing-key"), new FixedSealingCertificates(new Dictionary<string, string?> { ["eu-1"] = SealingTestKeys.CertificateOf(s_eu) }));

        var e = await Assert.ThrowsAsync<SealingException>(() => resealer.ResealAsync("eu-1", desired));

        Assert.StartsWith("FleetFunctions has no sealing key: secret 'no-such-sealing-key' is not in the secret store", e.Message, StringComparison.Ordinal);
        Assert.Contains("FLEETFUNCTIONS_SECRET_NO_SUCH_SEALING_KEY", e.Message, StringComparison.Ordinal);
    }

    private static SealedSecretResealer NewResealer() => new(
        new FixedKeys(SealingKeys.Parse(s_fleetFunctions, "test")),
        new FixedSealingCertificates(new Dictionary<string, string?> { ["eu-1"] = SealingTestKeys.CertificateOf(s_eu), ["us-1"] = SealingTestKeys.CertificateOf(s_us), ["bare"] = null }));

    private static ManifestSet Parse(string yaml) => ManifestSet.Create(ManifestParser.Parse(yaml, "test.yaml"));

    private sealed class SwitchableKeys(SealingKeys keys) : ISealingKeySource
    {
        public SealingKeys Current { get; set; } = keys;

        public ValueTask<SealingKeys> GetAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Current);
    }

    private sealed class FixedKeys(SealingKeys? keys) : ISealingKeySource
    {
        public ValueTask<SealingKeys> GetAsync(CancellationToken cancellationToken = default) =>
            keys is null ? throw new InvalidOperationException("keys were read") : ValueTask.FromResult(keys);
    }
}
