using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FleetFunctions.Simulator.Hosting;

/// <summary>
/// A bare Kestrel listener on one address and port, calling one request delegate. Much lighter than a
/// host per cluster; stopping it closes the socket (connection refused), and a new one can rebind the port.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private bool _stopped;

    private LoopbackServer(KestrelServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0 = any free port).</summary>
    public static async Task<LoopbackServer> StartAsync(IPAddress address, int port, RequestDelegate handler, CancellationToken cancellationToken = default)
    {
        var options = new KestrelServerOptions
        {
            AddServerHeader = false,
            ApplicationServices = new ServiceCollection().BuildServiceProvider(),
        };
        options.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        options.Listen(address, port, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance);
        var server = new KestrelServer(Options.Create(options), transport, NullLoggerFactory.Instance);
        try
        {
            await server.StartAsync(new Application(handler), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            server.Dispose();
            throw new IOException($"cannot listen on {address}:{port}: {ex.Message}", ex);
        }

        var bound = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackServer(server, new Uri(bound).Port);
    }

    /// <summary>Closes the listener and every open connection.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _server.StopAsync(grace.Token);
        _server.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private sealed class Application(RequestDelegate handler) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => handler(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}
