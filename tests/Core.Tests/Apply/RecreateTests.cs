using System.Net;
using System.Text;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Apply;

/// <summary>
/// Immutable-field handling. The simulator does not enforce immutable fields, so a small hand-written API
/// server answers like kube-apiserver does for a changed Deployment selector (422 "field is immutable").
/// </summary>
public sealed class RecreateTests
{
    private const string Deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector:\n    matchLabels: {app: web2}\n";

    [Fact]
    public async Task ApplyAsync_ImmutableSelectorChanged_FailsNamingFieldWithoutRecreate()
    {
        await using var server = await ImmutableApiServer.StartAsync();
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken("fake", server.Url, "t")]));
        var client = await factory.GetClientAsync("fake");

        var changes = await new Applier(client).ApplyAsync(ManifestSet.Create(ManifestParser.Parse(Deployment, "web.yaml")));

        var failure = Assert.Single(changes.Failures);
        Assert.StartsWith("fake/Deployment/default/web: immutable field changed: spec.selector", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Deletes);
    }

    [Fact]
    public async Task ApplyAsync_ImmutableSelectorChangedWithRecreate_DeletesAndAppliesAgain()
    {
        await using var server = await ImmutableApiServer.StartAsync();
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken("fake", server.Url, "t")]));
        var client = await factory.GetClientAsync("fake");

        var changes = await new Applier(client, new ApplyOptions { Recreate = true }).ApplyAsync(ManifestSet.Create(ManifestParser.Parse(Deployment, "web.yaml")));

        var change = Assert.Single(changes.Changes);
        Assert.Equal(ChangeAction.Configured, change.Action);
        Assert.Contains("recreated", change.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Deletes);
        Assert.Equal(2, server.Applies);
    }

    /// <summary>Serves apps/v1 discovery and one Deployment whose selector cannot change until it is deleted.</summary>
    private sealed class ImmutableApiServer : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private bool _exists = true;

        private ImmutableApiServer(int port)
        {
            Url = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public Uri Url { get; }

        public int Deletes { get; private set; }

        public int Applies { get; private set; }

        public static Task<ImmutableApiServer> StartAsync() => Task.FromResult(new ImmutableApiServer(FreePort.Next()));

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                await _loop;
            }
            catch (HttpListenerException)
            {
                // Stopped.
            }
            catch (ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                var (code, body) = Handle(context.Request.HttpMethod, context.Request.Url!.AbsolutePath);
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = code;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        private (int Code, string Body) Handle(string method, string path)
        {
            const string obj = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","resourceVersion":"2"}}""";
            switch (method, path)
            {
                case ("GET", "/version"):
                    return (200, """{"major":"1","minor":"32"}""");
                case ("GET", "/apis/apps/v1"):
                    return (200, """{"kind":"APIResourceList","groupVersion":"apps/v1","resources":[{"name":"deployments","namespaced":true,"kind":"Deployment"}]}""");
                case ("GET", "/apis/apps/v1/namespaces/default/deployments/web"):
                    return _exists ? (200, obj) : (404, """{"kind":"Status","reason":"NotFound","code":404,"message":"deployments.apps \"web\" not found"}""");
                case ("DELETE", "/apis/apps/v1/namespaces/default/deployments/web"):
                    Deletes++;
                    _exists = false;
                    return (200, obj);
                case ("PATCH", "/apis/apps/v1/namespaces/default/deployments/web"):
                    Applies++;
                    if (_exists)
                    {
                        return (422, """
                            {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid","code":422,
                             "message":"Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}}: field is immutable",
                             "details":{"causes":[{"reason":"FieldValueInvalid","message":"Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}}: field is immutable","field":"spec.selector"}]}}
                            """);
                    }

                    _exists = true;
                    return (200, obj);
                default:
                    return (404, """{"kind":"Status","reason":"NotFound","code":404}""");
            }
        }
    }
}
