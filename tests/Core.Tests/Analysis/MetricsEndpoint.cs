using System.Net;
using System.Text;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Core.Tests.Analysis;

/// <summary>A loopback HTTP endpoint serving Prometheus text whose content a test sets.</summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private volatile string _body = string.Empty;

    public MetricsEndpoint()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public void Set(string exposition) => _body = exposition;

    public void Dispose()
    {
        try
        {
            // Close alone: after Stop, the managed listener's Close looks its endpoint up again and binds the port
            // anew, which fails with "Address already in use" when another test took the port meanwhile.
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Closed enough: nothing listens on the port any more.
        }

        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener loop ends with an exception when the listener closes.
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
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var bytes = Encoding.UTF8.GetBytes(_body);
            context.Response.ContentType = "text/plain; version=0.0.4";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}
