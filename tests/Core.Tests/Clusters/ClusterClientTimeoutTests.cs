using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FleetFunctions.Core.Clusters;
using Xunit;

namespace FleetFunctions.Core.Tests.Clusters;

public sealed class ClusterClientTimeoutTests
{
    private static readonly ResourceInfo s_configMaps = new(string.Empty, "v1", "ConfigMap", "configmaps", Namespaced: true);

    [Theory]
    [InlineData("get")]
    [InlineData("list")]
    [InlineData("discovery")]
    [InlineData("error")]
    public async Task Read_ServerStallsMidBody_UnreachableWithinTheRequestTimeout(string read)
    {
        await using var server = StallingServer.Start(read == "error" ? "404 Not Found" : "200 OK");
        using var factory = new ClusterClientFactory(
            new StaticCredentialsProvider([ClusterConnection.FromToken("stalled", server.Url, "token")]),
            new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
        var client = await factory.GetClientAsync("stalled");
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var elapsed = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(() => read switch
        {
            "get" => client.GetAsync(s_configMaps, "default", "c", giveUp.Token),
            "list" => client.ListAsync(s_configMaps, "default", cancellationToken: giveUp.Token).ToListAsync(giveUp.Token).AsTask(),
            "discovery" => client.ResolveAsync("v1", "ConfigMap", cancellationToken: giveUp.Token),
            _ => client.ApplyAsync(s_configMaps, System.Text.Json.Nodes.JsonNode.Parse("""{"metadata":{"name":"c","namespace":"default"}}""")!.AsObject(), cancellationToken: giveUp.Token),
        });

        Assert.InRange(elapsed.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(15));
        Assert.StartsWith("stalled", error.Message, StringComparison.Ordinal);
        Assert.Contains("not complete within 2s", error.Message, StringComparison.Ordinal);
        Assert.Equal("stalled", error.Cluster);
    }

    /// <summary>An API server that sends the headers of its answer and the first bytes of the body, then nothing more, holding the connection open.</summary>
    private sealed class StallingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _connections = [];
        private readonly string _status;
        private Task _accepting = Task.CompletedTask;

        private StallingServer(string status) => _status = status;

        public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public static StallingServer Start(string status)
        {
            var server = new StallingServer(status);
            server._listener.Start();
            server._accepting = server.AcceptAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
            lock (_connections)
            {
                _connections.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_connections)
                {
                    _connections.Add(connection);
                }

                _ = AnswerAsync(connection.GetStream());
            }
        }

        private async Task AnswerAsync(NetworkStream stream)
        {
            // Read the request's headers (the requests here have small bodies that fit the same read), then answer in part.
            var buffer = new byte[64 * 1024];
            var request = new StringBuilder();
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var answer = $"HTTP/1.1 {_status}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + """{"kind":"Versi""";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
            await stream.FlushAsync(_stop.Token);
        }
    }
}
