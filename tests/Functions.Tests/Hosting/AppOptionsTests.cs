using FleetFunctions.Functions.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FleetFunctions.Functions.Tests.Hosting;

public sealed class AppOptionsTests
{
    private static AppOptions From(params (string Key, string Value)[] settings) =>
        AppOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build());

    [Fact]
    public void From_ConnectionString_UsesIt()
    {
        var options = From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform"));

        Assert.Equal("UseDevelopmentStorage=true", options.StorageConnectionString);
        Assert.Null(options.StorageAccountName);
        Assert.False(options.CreateStorageAccount().UsesIdentity);
    }

    [Fact]
    public void From_IdentityBasedHostStorage_UsesTheAccountWithAToken()
    {
        // AzureWebJobsStorage__accountName as an environment variable is the configuration key AzureWebJobsStorage:accountName.
        var options = From(
            ("AzureWebJobsStorage:accountName", "fleetfn123"),
            ("AzureWebJobsStorage:clientId", "11111111-2222-3333-4444-555555555555"),
            ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform"));

        var storage = options.CreateStorageAccount();

        Assert.True(storage.UsesIdentity);
        Assert.Equal("11111111-2222-3333-4444-555555555555", options.StorageClientId);
        Assert.Equal(new Uri("https://fleetfn123.queue.core.windows.net/fleethub-control"), storage.CreateQueueClient("fleethub-control").Uri);
        Assert.Equal(new Uri("https://fleetfn123.table.core.windows.net/"), storage.CreateTableServiceClient().Uri);
        Assert.Equal(new Uri("https://fleetfn123.blob.core.windows.net/fleethub-payloads"), storage.CreateBlobContainerClient("fleethub-payloads").Uri);
    }

    [Fact]
    public void From_NoStorage_NamesBothWaysToConfigureIt()
    {
        var error = Assert.Throws<InvalidOperationException>(() => From(("FLEETFUNCTIONS_PlatformRepository", "/srv/platform")));

        Assert.Contains("FLEETFUNCTIONS_Storage", error.Message, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage__accountName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_BadAccountName_SaysWhatAnAccountNameIs()
    {
        var error = Assert.Throws<InvalidOperationException>(() => From(
            ("AzureWebJobsStorage:accountName", "Fleet_Storage"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform")));

        Assert.Contains("'Fleet_Storage' is not a storage account name", error.Message, StringComparison.Ordinal);
    }
}
