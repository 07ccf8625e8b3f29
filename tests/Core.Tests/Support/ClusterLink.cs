using System.Net;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Core.Tests.Support;

/// <summary>
/// The network between the controller and a simulated cluster, on a loopback port of its own: it passes requests through
/// until the first one <c>cutAt</c> matches, then drops that request and every later one (the connection is reset, as
/// when a cluster goes away mid-reconcile). With <c>answer</c> it answers them with that status instead, as an API
/// server in trouble does.
/// </summary>
internal sealed class ClusterLink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http = new();
    private readonly Uri _target;
    private readonly Func<HttpRequest, bool> _cutAt;
    private readonly HttpStatusCode? _answer;
    private int _cut;

    private ClusterLink(WebApplication app, Uri server, Uri target, Func<HttpRequest, bool> cutAt, HttpStatusCode? answer)
    {
        _app = app;
        Server = server;
        _target = target;
        _cutAt = cutAt;
        _answer = answer;
    }

    /// <summary>The URL the controller uses for the cluster.</summary>
    public Uri Server { get; }

    /// <summary>True once a request matched: nothing gets through any more.</summary>
    public bool IsCut => Volatile.Read(ref _cut) == 1;

    public static async Task<ClusterLink> StartAsync(SimulatedCluster cluster, Func<HttpRequest, bool> cutAt, HttpStatusCode? answer = null)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var link = new ClusterLink(app, new Uri($"http://127.0.0.1:{port}"), cluster.Server, cutAt, answer);
        app.Run(link.PassAsync);
        await app.StartAsync();
        return link;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _http.Dispose();
    }

    private async Task PassAsync(HttpContext context)
    {
        if (IsCut || _cutAt(context.Request))
        {
            Volatile.Write(ref _cut, 1);
            if (_answer is not { } status)
            {
                context.Abort();
                return;
            }

            context.Response.StatusCode = (int)status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server is currently unable to handle the request","reason":"ServiceUnavailable","code":{{(int)status}}}""");
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }

        request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        request.Headers.TryAddWithoutValidation("Accept", context.Request.Headers.Accept.ToString());
        using var response = await _http.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
