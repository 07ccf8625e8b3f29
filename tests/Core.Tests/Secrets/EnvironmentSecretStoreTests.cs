using FleetFunctions.Core.Secrets;
using Xunit;

namespace FleetFunctions.Core.Tests.Secrets;

public sealed class EnvironmentSecretStoreTests
{
    [Fact]
    public async Task GetAsync_VariableStillHoldingAKeyVaultReference_NotASecretAndSaysHowToResolveIt()
    {
        var name = $"kv-test-{Guid.NewGuid():N}";
        var variable = EnvironmentSecretStore.VariableFor(name);
        var store = new EnvironmentSecretStore();
        try
        {
            // What App Service passes on while it cannot read the vault (the secret missing, or no access).
            Environment.SetEnvironmentVariable(variable, $"@Microsoft.KeyVault(VaultName=ff-kv;SecretName={name})");
            var unresolved = await store.GetAsync(name);
            var advice = EnvironmentSecretStore.HowToSet(name);

            Environment.SetEnvironmentVariable(variable, "s3cret");
            var resolved = await store.GetAsync(name);

            Assert.Null(unresolved);
            Assert.Equal($"{variable} is a Key Vault reference the app could not resolve: add secret '{name}' to the vault, let the app's identity read it (Key Vault Secrets User), then restart the app", advice);
            Assert.Equal("s3cret", resolved);
            Assert.Equal($"set {variable}", EnvironmentSecretStore.HowToSet(name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData("tok\n")]
    [InlineData("tok\r\n")]
    [InlineData("tok\n\n")]
    public async Task GetAsync_ValueEndingInALineBreak_WithoutIt(string stored)
    {
        // kubectl create token sa > token.txt, uploaded to Key Vault: the app setting holds the file's final newline.
        var name = $"nl-test-{Guid.NewGuid():N}";
        var variable = EnvironmentSecretStore.VariableFor(name);
        try
        {
            Environment.SetEnvironmentVariable(variable, stored);

            Assert.Equal("tok", await new EnvironmentSecretStore().GetAsync(name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
