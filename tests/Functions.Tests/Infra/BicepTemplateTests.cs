using System.Reflection;
using System.Text.Json.Nodes;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FleetFunctions.Functions.Tests.Infra;

/// <summary>
/// Compiles infra/bicep/main.bicep with the real Bicep CLI (NuGet package Azure.Bicep.CommandLine.linux-x64) and
/// checks the template against what the app needs: keyless storage, the custom-handler runtime, the data roles,
/// and app settings the app itself accepts.
/// </summary>
public sealed class BicepTemplateTests
{
    private static readonly string s_template = Path.Combine(RepoPaths.Root, "infra", "bicep", "main.bicep");

    private static readonly Lazy<Task<JsonObject>> s_compiled = new(CompileAsync);

    [Fact]
    public async Task Lint_MainTemplate_ReportsNothing()
    {
        var result = await ExternalProcess.RunAsync(BicepPath(), ["lint", s_template], timeout: TimeSpan.FromMinutes(3));

        Assert.True(result.ExitCode == 0, $"bicep lint exited {result.ExitCode}:\n{result.StandardError}{result.StandardOutput}");
        Assert.Equal("", (result.StandardError + result.StandardOutput).Trim());
    }

    [Fact]
    public async Task Build_Storage_HasSharedKeysDisabled()
    {
        var storage = Resource(await s_compiled.Value, "Microsoft.Storage/storageAccounts");

        Assert.False(storage["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(storage["properties"]!["allowBlobPublicAccess"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Build_FunctionApp_RunsTheCustomHandlerOnFlexConsumption()
    {
        var template = await s_compiled.Value;
        var plan = Resource(template, "Microsoft.Web/serverfarms");
        var app = Resource(template, "Microsoft.Web/sites");

        Assert.Equal("FlexConsumption", plan["sku"]!["tier"]!.GetValue<string>());
        Assert.Equal("custom", app["properties"]!["functionAppConfig"]!["runtime"]!["name"]!.GetValue<string>());
        Assert.Equal("UserAssigned", app["identity"]!["type"]!.GetValue<string>());
        Assert.True(app["properties"]!["httpsOnly"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Build_Identity_GetsTheStorageKeyVaultAndMonitoringRoles()
    {
        var roles = (await s_compiled.Value)["resources"]!.AsArray()
            .Select(r => r!)
            .Where(r => r["type"]!.GetValue<string>() == "Microsoft.Authorization/roleAssignments")
            .Select(r => r["properties"]!["roleDefinitionId"]!.ToJsonString())
            .ToList();
        var template = (await s_compiled.Value).ToJsonString();

        // Blob owner (payloads, deployment package), queue and table data contributor, Key Vault secrets user, metrics publisher.
        foreach (var role in new[]
        {
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
            "4633458b-17de-408a-b874-0445c86b69e6", "3913510d-42f4-4e42-8a64-420c390055eb",
        })
        {
            Assert.Contains(role, template, StringComparison.Ordinal);
        }

        Assert.True(roles.Count >= 3, $"expected the role assignments, found {roles.Count}");
    }

    [Fact]
    public async Task Build_AppSettings_AreAcceptedByTheApp()
    {
        var template = await s_compiled.Value;
        var app = Resource(template, "Microsoft.Web/sites");
        var settings = app["properties"]!["siteConfig"]!["appSettings"]!.GetValue<string>();

        // The settings compile to one ARM expression of createObject('name', '<setting>', 'value', …) calls, some of
        // them in variables it concatenates (the optional Git and Prometheus settings): give each name a plausible
        // value and let the app validate them all.
        var declared = settings + string.Concat(System.Text.RegularExpressions.Regex.Matches(settings, "variables\\('([A-Za-z]+)'\\)")
            .Select(m => template["variables"]?[m.Groups[1].Value] is JsonValue value ? value.GetValue<string>() : string.Empty));
        var names = System.Text.RegularExpressions.Regex.Matches(declared, "createObject\\('name', '([A-Za-z0-9_]+)'")
            .Select(m => m.Groups[1].Value)
            .ToList();
        var values = names.ToDictionary(
            n => n.Replace("__", ":", StringComparison.Ordinal),
            n => n switch
            {
                "AzureWebJobsStorage__accountName" => "fleetfnabc123",
                "AzureWebJobsStorage__clientId" => "00000000-0000-0000-0000-000000000001",
                "FLEETFUNCTIONS_PlatformRepository" => "ssh://git@git.example.com/org/platform.git",
                "FLEETFUNCTIONS_PlatformRepositoryKnownHosts" => "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
                "FLEETFUNCTIONS_PrometheusUrl" => "http://prometheus.example.com:9090",
                "FLEETFUNCTIONS_PlatformBranch" => "main",
                "FLEETFUNCTIONS_PlatformPath" => ".",
                "FLEETFUNCTIONS_TaskHub" => "fleethub",
                "FLEETFUNCTIONS_SealingKeySecret" => "sealing-key",
                "FLEETFUNCTIONS_CacheDirectory" => "/tmp/fleetfunctions",
                "FLEETFUNCTIONS_GitCaCertificates" => CaPem(),
                "FLEETFUNCTIONS_PlatformGitHubAppId" => "123456",
                "FLEETFUNCTIONS_PlatformGitHubAppInstallationId" => "98765432",
                "FLEETFUNCTIONS_PlatformGitHubAppBaseUrl" => "https://github.example.com/api/v3",
                "FLEETFUNCTIONS_PublicBaseUrl" => "https://fleetfn-app-abc123.azurewebsites.net/",
                _ => "x",
            },
            StringComparer.Ordinal);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values!).Build();

        var options = AppOptions.From(configuration);

        Assert.Null(options.StorageConnectionString);
        Assert.Equal("fleetfnabc123", options.StorageAccountName);
        Assert.Equal("00000000-0000-0000-0000-000000000001", options.StorageClientId);
        Assert.True(options.CreateStorageAccount().UsesIdentity);
        Assert.Equal("sealing-key", options.SealingKeySecret);
        Assert.Contains("FLEETFUNCTIONS_PlatformRepositoryKnownHosts", names);
        Assert.Contains("FLEETFUNCTIONS_GitCaCertificates", names);
        Assert.NotNull(options.PlatformGitHubApp);

        // Behind the host the handler sees http://: status links come from the public https address instead.
        Assert.Contains("FLEETFUNCTIONS_PublicBaseUrl", names);
        Assert.Contains("'FLEETFUNCTIONS_PublicBaseUrl', 'value', format('https://{0}.azurewebsites.net/', variables('appName'))", declared, StringComparison.Ordinal);
        Assert.Equal("https", options.PublicBaseUrl?.Scheme);

        // The Functions host resolves %Setting% in function.json from app settings and fails the function without one.
        var referenced = Directory.GetFiles(Path.Combine(RepoPaths.Root, "src", "Functions", "functions"), "function.json", SearchOption.AllDirectories)
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), "%([A-Za-z0-9_]+)%").Select(m => m.Groups[1].Value))
            .Distinct()
            .ToList();
        Assert.NotEmpty(referenced);
        Assert.All(referenced, setting => Assert.Contains(setting, names));
    }

    /// <summary>A self-signed CA certificate as PEM, the kind of value the gitCaCertificates parameter takes.</summary>
    private static string CaPem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Example CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }

    private static JsonObject Resource(JsonObject template, string type) =>
        template["resources"]!.AsArray().Select(r => r!.AsObject()).Single(r => r["type"]!.GetValue<string>() == type);

    private static async Task<JsonObject> CompileAsync()
    {
        var result = await ExternalProcess.RunAsync(BicepPath(), ["build", s_template, "--stdout"], timeout: TimeSpan.FromMinutes(3));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build {s_template} exited {result.ExitCode}:\n{result.StandardError}");
        }

        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    private static string BicepPath()
    {
        var path = typeof(BicepTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value;
        Assert.False(string.IsNullOrEmpty(path), "the Bicep CLI package did not set BicepPath: restore tests/Functions.Tests");
        return path!.Replace('\\', '/');
    }
}
