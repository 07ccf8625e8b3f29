using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Hosting;

/// <summary>The app's object graph: domain services, the durable engine with the rollout workflows, and the stores.</summary>
public static class FleetServiceCollection
{
    /// <summary>Version stored with every orchestration this app starts.</summary>
    public static readonly string OrchestrationVersion = typeof(FleetServiceCollection).Assembly.GetName().Version?.ToString() ?? "1";

    /// <summary>Registers every service; entries already registered (tests, alternative hosts) are kept.</summary>
    public static IServiceCollection AddFleetFunctions(this IServiceCollection services, AppOptions options)
    {
        var storage = options.CreateStorageAccount();
        services.TryAddSingleton(options);
        services.TryAddSingleton(storage);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISecretStore>(_ => new CompositeSecretStore(
            options.SecretsDirectory is { } dir ? [new EnvironmentSecretStore(), new DirectorySecretStore(dir)] : [new EnvironmentSecretStore()]));
        services.TryAddSingleton(sp => new GitRepositories(
            new GitCacheOptions
            {
                CacheDirectory = Path.Combine(options.CacheDirectory, "git"),
                TrustedCertificateAuthorities = options.GitCertificateAuthorities,
            }.Validate(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<GitRepositories>()));
        services.TryAddSingleton(sp => new PlatformRepository(
            new GitSourceSpec(options.PlatformRepository, options.PlatformBranch) { SshKnownHosts = options.PlatformKnownHosts }, sp.GetRequiredService<ISecretStore>(), options.PlatformRepositorySecret, options.PlatformGitHubApp));
        services.TryAddSingleton<IPlatformProvider>(sp => new GitPlatformProvider(
            sp.GetRequiredService<GitRepositories>(), sp.GetRequiredService<PlatformRepository>(), options.PlatformPath));
        services.TryAddSingleton(_ => new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(options.CacheDirectory, "rendered"), KustomizeCommand = options.KustomizeCommand }));
        services.TryAddSingleton<IClusterCredentialsProvider>(sp => new PlatformClusterCredentials(
            sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<ISecretStore>(), options.AzureCredential));
        services.TryAddSingleton(sp => new ClusterClientFactory(sp.GetRequiredService<IClusterCredentialsProvider>()));
        services.TryAddSingleton(_ => new InventoryStore(storage));
        services.TryAddSingleton(_ => new ReconcileHistoryStore(storage) { Retention = options.ReconcileHistoryRetention });
        services.TryAddSingleton<ISealingKeySource>(sp => new SecretStoreSealingKeys(sp.GetRequiredService<ISecretStore>(), options.SealingKeySecret));
        services.TryAddSingleton(sp => new SealedSecretResealer(
            sp.GetRequiredService<ISealingKeySource>(), new PlatformSealingCertificates(sp.GetRequiredService<IPlatformProvider>())));
        services.TryAddSingleton(sp => new Reconciler(
            sp.GetRequiredService<GitRepositories>(), sp.GetRequiredService<ManifestRenderer>(), sp.GetRequiredService<ClusterClientFactory>(),
            sp.GetRequiredService<InventoryStore>(), sp.GetRequiredService<ReconcileHistoryStore>(), loggerFactory: sp.GetRequiredService<ILoggerFactory>(),
            resealer: sp.GetRequiredService<SealedSecretResealer>()));
        services.TryAddSingleton<IPolicySetSource>(sp => new GitPolicySetSource(
            sp.GetRequiredService<GitRepositories>(), sp.GetRequiredService<PlatformRepository>()));
        services.TryAddSingleton<IClusterReconciler>(sp => new PipelineClusterReconciler(
            sp.GetRequiredService<Reconciler>(), sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<IPolicySetSource>()));
        services.TryAddSingleton(_ => new FleetStateStore(storage) { CommitRetention = options.RolloutRetention });
        services.TryAddSingleton(sp => new RolloutAncestry(
            sp.GetRequiredService<GitRepositories>(), sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutAncestry>()));
        services.TryAddSingleton(_ => new DeliveryStore(storage, new DeliveryStoreOptions { Retention = options.WebhookDeliveryRetention }));
        services.TryAddSingleton<WebhookReceiver>();

        services.TryAddSingleton(_ => new DurableTaskHub(new DurableTaskHubOptions(storage, options.TaskHub)
        {
            ControlMessageVisibilityTimeout = options.EngineVisibilityTimeout,
            WorkItemVisibilityTimeout = options.EngineVisibilityTimeout,
            FinishedInstanceRetention = options.RolloutRetention,
        }));
        services.TryAddSingleton(sp =>
        {
            var registry = new DurableTaskRegistry { Version = OrchestrationVersion };
            sp.GetRequiredService<RolloutActivities>().Register(registry);
            return registry.AddRolloutOrchestrator();
        });

        // The client takes the version directly: the activities need the client, and the registry needs the activities.
        services.TryAddSingleton(sp => new DurableClient(sp.GetRequiredService<DurableTaskHub>(), OrchestrationVersion));
        services.TryAddSingleton(sp => new DurableMessageHandler(sp.GetRequiredService<DurableTaskHub>(), sp.GetRequiredService<DurableTaskRegistry>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton(sp => new RolloutActivities(
            sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<IClusterReconciler>(), sp.GetRequiredService<FleetStateStore>(),
            sp.GetRequiredService<RolloutAncestry>(), sp.GetRequiredService<DurableClient>(), sp.GetService<CanaryAnalyzer>(), sp.GetRequiredService<TimeProvider>()));
        if (options.PrometheusUrl is { } prometheus)
        {
            services.TryAddSingleton(_ => new CanaryAnalyzer(new PrometheusClient(new HttpClient(), new PrometheusClientOptions(prometheus))));
        }

        services.TryAddSingleton(sp => new DeliveryProcessor(
            sp.GetRequiredService<DeliveryStore>(), sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<GitRepositories>(),
            sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<DurableClient>(), sp.GetRequiredService<FleetStateStore>(), sp.GetRequiredService<RolloutAncestry>()));
        services.TryAddSingleton(_ => new DriftEventStore(storage) { Retention = options.DriftEventRetention });
        services.TryAddSingleton(sp => new DriftChecker(
            sp.GetRequiredService<Reconciler>(), sp.GetRequiredService<DriftEventStore>(), sp.GetRequiredService<FleetStateStore>(),
            sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DriftChecker>>(),
            sp.GetRequiredService<DurableClient>()));
        services.TryAddSingleton(sp => new DriftSweeper(
            sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<DriftChecker>(), storage,
            new DriftSweepOptions { Concurrency = options.DriftSweepConcurrency }, sp.GetRequiredService<ILogger<DriftSweeper>>(), sp.GetRequiredService<ClusterClientFactory>()));
        services.TryAddSingleton(sp => new DriftWatcher(
            sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<InventoryStore>(), sp.GetRequiredService<ClusterClientFactory>(),
            sp.GetRequiredService<DriftChecker>(), logger: sp.GetRequiredService<ILogger<DriftWatcher>>()));
        services.TryAddSingleton<Triggers.FunctionHandlers>();
        return services;
    }
}
