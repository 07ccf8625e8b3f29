using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Functions.Triggers;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Triggers;

/// <summary>The Functions host only knows what function.json and host.json say: they must match the app exactly.</summary>
public sealed class FunctionCatalogTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string s_functions = Path.Combine(RepoPaths.Root, "src", "Functions", "functions");

    [Fact]
    public void FunctionJson_EveryFolderIsACatalogFunctionAndEveryFunctionHasAFolder()
    {
        var folders = Directory.GetDirectories(s_functions).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(FunctionCatalog.All.Select(f => f.Name).Order(StringComparer.Ordinal), folders);
    }

    [Fact]
    public void FunctionJson_BindingsMatchTheCatalog()
    {
        foreach (var function in FunctionCatalog.All)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(s_functions, function.Name, "function.json")))!;
            var trigger = json["bindings"]!.AsArray().Single(b => b!["direction"]!.GetValue<string>() == "in")!;
            switch (function.Trigger)
            {
                case TriggerKind.Http:
                    Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
                    Assert.Equal(function.Route, trigger["route"]!.GetValue<string>());
                    Assert.Equal(function.AuthLevel, trigger["authLevel"]!.GetValue<string>());
                    Assert.Equal(function.Methods, trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
                    break;
                case TriggerKind.Queue:
                    Assert.Equal("queueTrigger", trigger["type"]!.GetValue<string>());
                    Assert.Equal(function.QueueName, trigger["queueName"]!.GetValue<string>());
                    break;
                default:
                    Assert.Equal("timerTrigger", trigger["type"]!.GetValue<string>());
                    Assert.Equal(function.Schedule, trigger["schedule"]!.GetValue<string>());
                    break;
            }
        }
    }

    [Fact]
    public void HostJson_IsACustomHandlerWhoseRetriesMatchTheHandlers()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!;

        Assert.Equal("fleetfunctions", host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>());
        Assert.Equal(["serve"], host["customHandler"]!["description"]!["arguments"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.True(host["customHandler"]!["enableForwardingHttpRequest"]!.GetValue<bool>());
        Assert.Equal(string.Empty, host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
        Assert.Equal("none", host["extensions"]!["queues"]!["messageEncoding"]!.GetValue<string>());
        var maxDequeue = host["extensions"]!["queues"]!["maxDequeueCount"]!.GetValue<int>();
        Assert.Equal(FunctionHandlers.MaxDequeueCount, maxDequeue);
        Assert.Equal(new DurableTaskHubOptions("UseDevelopmentStorage=true").MaxDequeueCount, maxDequeue);
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", host["extensionBundle"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task CustomHandler_EveryFunctionReachesAHandler()
    {
        var options = new AppOptions
        {
            StorageConnectionString = azurite.ConnectionString,
            PlatformRepository = "unused: the platform is given",
            TaskHub = "fleethub",
            CustomHandlerPort = FreePort.Next(),
        };
        var platform = PlatformLoader.Load([]);
        await using var app = await TestApp.StartAsync(options, platform, services => { });

        foreach (var function in FunctionCatalog.All)
        {
            using var request = function.Trigger == TriggerKind.Http ? HttpRequestFor(function) : InvocationFor(function);
            using var response = await app.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            // A 404 or 405 from routing has no problem body: the function would never reach its handler.
            var routed = response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
                || response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            Assert.True(routed, $"{function.Name}: {request.Method} {request.RequestUri} answered {(int)response.StatusCode} '{body}'");
        }
    }

    private static HttpRequestMessage HttpRequestFor(FunctionDefinition function)
    {
        var path = function.Route!
            .Replace("{*path}", "instances", StringComparison.Ordinal)
            .Replace("/{name?}", string.Empty, StringComparison.Ordinal)
            .Replace("/{instanceId?}", string.Empty, StringComparison.Ordinal)
            .Replace("{provider}", "github", StringComparison.Ordinal)
            .Replace("{decision}", "approve", StringComparison.Ordinal);
        path = System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", "sample");
        var method = new HttpMethod(function.Methods![0].ToUpperInvariant());
        return new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : new StringContent("{}", Encoding.UTF8, "application/json") };
    }

    private static HttpRequestMessage InvocationFor(FunctionDefinition function) =>
        new(HttpMethod.Post, function.Name)
        {
            Content = new StringContent(function.Trigger == TriggerKind.Timer
                ? """{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"PlatformRefresh"}}}"""
                : """{"Data":{"message":"{\"Provider\":\"GitHub\",\"DeliveryId\":\"none\"}"},"Metadata":{"DequeueCount":1,"Id":"m1"}}""",
                Encoding.UTF8, "application/json"),
        };
}
