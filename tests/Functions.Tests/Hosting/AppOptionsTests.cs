using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Functions.Triggers;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Hosting;

public sealed class AppOptionsTests
{
    private static AppOptions From(params (string Key, string Value)[] settings) =>
        AppOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build());

    [Fact]
    public void TimerSchedule_GivenAsAnArgumentWithOrWithoutThePrefix_UsedInsteadOfTheDefault()
    {
        var sweep = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.DriftSweep);
        static IConfiguration Arguments(params string[] args) => new ConfigurationBuilder().AddCommandLine(args).Build();

        var plain = TimerScheduler.Resolve(sweep, Arguments("--DriftSweepSchedule=*/7 * * * * *"));
        var prefixed = TimerScheduler.Resolve(sweep, Arguments("--FLEETFUNCTIONS_DriftSweepSchedule=*/9 * * * * *"));
        var none = TimerScheduler.Resolve(sweep, Arguments());

        var from = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(from.AddSeconds(7), plain.GetNextOccurrence(from));
        Assert.Equal(from.AddSeconds(9), prefixed.GetNextOccurrence(from));
        Assert.Equal(Cronos.CronExpression.Parse(FunctionCatalog.DriftSweepSchedule, Cronos.CronFormat.IncludeSeconds).GetNextOccurrence(from), none.GetNextOccurrence(from));
    }

    [Fact]
    public void From_ConnectionString_UsesIt()
    {
        var options = From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform"));

        Assert.Equal("UseDevelopmentStorage=true", options.StorageConnectionString);
        Assert.Null(options.StorageAccountName);
        Assert.False(options.CreateStorageAccount().UsesIdentity);
    }

    [Fact]
    public void From_SealingKeySecret_DefaultsToSealingKey()
    {
        Assert.Equal("sealing-key", From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform")).SealingKeySecret);
        Assert.Equal("kv-sealing", From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform"), ("FLEETFUNCTIONS_SealingKeySecret", "kv-sealing")).SealingKeySecret);
    }

    [Fact]
    public void From_SshPlatformRepository_KnownHostsRequiredAsLinesOrAFile()
    {
        const string Repository = "git@git.example.com:org/platform.git";
        const string Hosts = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Hosts + "\n");
        try
        {
            var missing = Assert.Throws<InvalidOperationException>(() => From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", Repository)));
            var notSsh = Assert.Throws<InvalidOperationException>(() => From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform"), ("FLEETFUNCTIONS_PlatformRepositoryKnownHosts", Hosts)));
            var inline = From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", Repository), ("FLEETFUNCTIONS_PlatformRepositoryKnownHosts", Hosts));
            var fromFile = From(("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", Repository), ("FLEETFUNCTIONS_PlatformRepositoryKnownHosts", file));

            Assert.Contains("FLEETFUNCTIONS_PlatformRepositoryKnownHosts is required for the SSH platform repository", missing.Message, StringComparison.Ordinal);
            Assert.Contains("is not an SSH URL", notSsh.Message, StringComparison.Ordinal);
            Assert.Equal(Hosts, inline.PlatformKnownHosts);
            Assert.Equal(Hosts + "\n", fromFile.PlatformKnownHosts);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>What infra/bicep/main.bicep sets for the function.json bindings.</summary>
    private static readonly (string, string)[] s_hostBindings =
    [
        ("FLEETFUNCTIONS_TaskHub", "fleethub"),
        ("FLEETFUNCTIONS_PlatformRefreshSchedule", FunctionCatalog.PlatformRefreshSchedule),
        ("FLEETFUNCTIONS_DriftSweepSchedule", FunctionCatalog.DriftSweepSchedule),
        ("FLEETFUNCTIONS_EngineMaintenanceSchedule", FunctionCatalog.EngineMaintenanceSchedule),
    ];

    [Fact]
    public void From_CustomHandlerWithoutTheSettingsFunctionJsonBinds_RefusesNamingEach()
    {
        (string, string)[] base_ = [("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform")];

        var none = Assert.Throws<InvalidOperationException>(() => From([.. base_, ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")]));
        var oneMissing = Assert.Throws<InvalidOperationException>(() => From([.. base_, ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071"), .. s_hostBindings.Skip(1)]));
        var all = From([.. base_, ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071"), .. s_hostBindings]);
        var standalone = From(base_);

        Assert.Contains("behind the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT is set)", none.Message, StringComparison.Ordinal);
        Assert.All(FunctionCatalog.BoundSettings, b => Assert.Contains(b.Setting, none.Message, StringComparison.Ordinal));
        Assert.Contains("FLEETFUNCTIONS_TaskHub (for EngineControl, EngineWorkItems)", none.Message, StringComparison.Ordinal);
        Assert.Contains("FLEETFUNCTIONS_DriftSweepSchedule (for DriftSweep)", none.Message, StringComparison.Ordinal);
        Assert.Contains("infra/bicep/main.bicep", none.Message, StringComparison.Ordinal);
        Assert.Contains("FLEETFUNCTIONS_TaskHub", oneMissing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("FLEETFUNCTIONS_DriftSweepSchedule", oneMissing.Message, StringComparison.Ordinal);
        Assert.True(all.IsCustomHandler);
        Assert.Equal("fleethub", standalone.TaskHub);
    }

    [Fact]
    public void From_ExitWithParent_OnBehindTheFunctionsHostOffStandaloneAndParsed()
    {
        (string, string)[] base_ = [("FLEETFUNCTIONS_Storage", "UseDevelopmentStorage=true"), ("FLEETFUNCTIONS_PlatformRepository", "/srv/platform")];

        Assert.False(From(base_).ExitWithParent);
        Assert.True(From([.. base_, .. s_hostBindings, ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")]).ExitWithParent);
        Assert.False(From([.. base_, .. s_hostBindings, ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071"), ("FLEETFUNCTIONS_ExitWithParent", "false")]).ExitWithParent);
        Assert.True(From([.. base_, ("FLEETFUNCTIONS_ExitWithParent", "true")]).ExitWithParent);
        var error = Assert.Throws<InvalidOperationException>(() => From([.. base_, ("FLEETFUNCTIONS_ExitWithParent", "yes")]));
        Assert.Contains("FLEETFUNCTIONS_ExitWithParent 'yes' must be true or false", error.Message, StringComparison.Ordinal);
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

    [Fact]
    public void From_RolloutRetention_GoesToTheTaskHubAndZeroKeepsFinishedRollouts()
    {
        var options = AppOptions.From(Configuration(("FLEETFUNCTIONS_RolloutRetention", "168h")));
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(options).BuildServiceProvider();

        Assert.Equal(TimeSpan.FromDays(7), provider.GetRequiredService<DurableTaskHub>().Options.FinishedInstanceRetention);
        Assert.Equal(TimeSpan.FromDays(30), AppOptions.From(Configuration()).RolloutRetention);
        Assert.Null(AppOptions.From(Configuration(("FLEETFUNCTIONS_RolloutRetention", "0"))).RolloutRetention);
    }

    [Fact]
    public void From_Kubectl_FromTheSettingOrAnArgumentGoesToTheRenderer()
    {
        var setting = AppOptions.From(Configuration(("FLEETFUNCTIONS_KUBECTL", "/opt/tools/kubectl")));
        var argument = AppOptions.From(new ConfigurationBuilder().AddConfiguration(Configuration()).AddCommandLine(["--KUBECTL=/opt/tools/kustomize"]).Build());
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(argument).BuildServiceProvider();

        Assert.Equal("/opt/tools/kubectl", setting.KustomizeCommand);
        Assert.Equal("/opt/tools/kustomize", provider.GetRequiredService<ManifestRenderer>().Options.KustomizeCommand);
        Assert.Equal(RenderOptions.DefaultKustomizeCommand(), AppOptions.From(Configuration()).KustomizeCommand);
    }

    [Fact]
    public void From_ReconcileHistoryRetention_GoesToTheHistoryStore()
    {
        var options = AppOptions.From(Configuration(("FLEETFUNCTIONS_ReconcileHistoryRetention", "48h")));
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(options).BuildServiceProvider();

        Assert.Equal(TimeSpan.FromDays(2), provider.GetRequiredService<ReconcileHistoryStore>().Retention);
        Assert.Null(AppOptions.From(Configuration(("FLEETFUNCTIONS_ReconcileHistoryRetention", "0"))).ReconcileHistoryRetention);
        var error = Assert.Throws<InvalidOperationException>(() => AppOptions.From(Configuration(("FLEETFUNCTIONS_ReconcileHistoryRetention", "10m"))));
        Assert.Contains("FLEETFUNCTIONS_ReconcileHistoryRetention '10m' must be a duration of at least 1h", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_WebhookDeliveryRetention_ParsedAndZeroKeepsThem()
    {
        Assert.Equal(TimeSpan.FromDays(3), AppOptions.From(Configuration(("FLEETFUNCTIONS_WebhookDeliveryRetention", "72h"))).WebhookDeliveryRetention);
        Assert.Equal(TimeSpan.FromDays(30), AppOptions.From(Configuration()).WebhookDeliveryRetention);
        Assert.Null(AppOptions.From(Configuration(("FLEETFUNCTIONS_WebhookDeliveryRetention", "0"))).WebhookDeliveryRetention);
    }

    [Theory]
    [InlineData("30m")]
    [InlineData("a month")]
    public void From_RolloutRetentionTooShortOrNotADuration_ErrorNamesTheSetting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AppOptions.From(Configuration(("FLEETFUNCTIONS_RolloutRetention", value))));

        Assert.Contains($"FLEETFUNCTIONS_RolloutRetention '{value}' must be a duration of at least 1h", error.Message, StringComparison.Ordinal);
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
