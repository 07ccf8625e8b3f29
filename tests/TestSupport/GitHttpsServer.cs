using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.TestSupport;

/// <summary>
/// Git's own smart-HTTP server (<c>git http-backend</c>, run as a CGI program per request) behind HTTPS with a
/// certificate from a throw-away CA and Basic authentication, on loopback: what a self-hosted Git server with a
/// private CA looks like to the controller. Serves every repository under <see cref="Root"/>.
/// </summary>
public sealed class GitHttpsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<string, string, bool> _accepts;

    private GitHttpsServer(WebApplication app, string root, Func<string, string, bool> accepts, string caPem, int port)
    {
        _app = app;
        Root = root;
        _accepts = accepts;
        CaPem = caPem;
        BaseUrl = $"https://127.0.0.1:{port}";
    }

    /// <summary>Folder whose repositories are served: <c>{BaseUrl}/{folder name}</c>.</summary>
    public string Root { get; }

    /// <summary>The CA that signed the server's certificate, as PEM.</summary>
    public string CaPem { get; }

    public string BaseUrl { get; }

    /// <summary>Requests that reached the server, with the user they authenticated as (null when they did not).</summary>
    public List<(string Path, string? User)> Requests { get; } = [];

    /// <param name="certificateHost">The one name the server's certificate is issued for; default 127.0.0.1 and localhost.</param>
    public static Task<GitHttpsServer> StartAsync(string root, string user, string password, string? certificateHost = null) =>
        StartAsync(root, (u, p) => u == user && p == password, certificateHost);

    /// <param name="accepts">Whether a Basic user and password may fetch (for credentials that change, like installation tokens).</param>
    public static async Task<GitHttpsServer> StartAsync(string root, Func<string, string, bool> accepts, string? certificateHost = null)
    {
        GitHttpsServer? server = null;
        var (app, port, caPem) = await LoopbackHttps.StartAsync(web => web.Run(context => server!.HandleAsync(context)), certificateHost);
        server = new GitHttpsServer(app, root, accepts, caPem, port);
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var user = Authenticate(context.Request.Headers.Authorization.ToString());
        lock (Requests)
        {
            Requests.Add((context.Request.Path + context.Request.QueryString, user));
        }

        if (user is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"git\"";
            return;
        }

        await RunBackendAsync(context, user);
    }

    private string? Authenticate(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && _accepts(pair[..colon], pair[(colon + 1)..]) ? pair[..colon] : null;
    }

    /// <summary>Runs <c>git http-backend</c> for one request (CGI: request in environment and stdin, response headers then body on stdout).</summary>
    private async Task RunBackendAsync(HttpContext context, string user)
    {
        var request = context.Request;
        var start = new ProcessStartInfo("git", "http-backend")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GIT_PROJECT_ROOT"] = Root;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["REQUEST_METHOD"] = request.Method;
        start.Environment["PATH_INFO"] = request.Path.Value ?? "/";
        start.Environment["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : string.Empty;
        start.Environment["CONTENT_TYPE"] = request.ContentType ?? string.Empty;
        start.Environment["REMOTE_USER"] = user;
        start.Environment["REMOTE_ADDR"] = "127.0.0.1";
        if (request.Headers["Git-Protocol"].ToString() is { Length: > 0 } protocol)
        {
            start.Environment["GIT_PROTOCOL"] = protocol;
        }

        // The request body is buffered so the CGI program gets its exact length (libgit2 sends it chunked).
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        start.Environment["CONTENT_LENGTH"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding)
        {
            start.Environment["HTTP_CONTENT_ENCODING"] = encoding;
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        body.Position = 0;
        await body.CopyToAsync(process.StandardInput.BaseStream);
        process.StandardInput.Close();

        using var output = new MemoryStream();
        await process.StandardOutput.BaseStream.CopyToAsync(output);
        await process.WaitForExitAsync();
        var bytes = output.ToArray();
        var split = HeaderEnd(bytes);
        foreach (var line in Encoding.ASCII.GetString(bytes, 0, split.HeaderLength).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                context.Response.Headers[name] = value;
            }
        }

        if (process.ExitCode != 0 && !context.Response.HasStarted && context.Response.StatusCode == StatusCodes.Status200OK)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync(await stderr);
            return;
        }

        await context.Response.Body.WriteAsync(bytes.AsMemory(split.BodyStart));
    }

    private static (int HeaderLength, int BodyStart) HeaderEnd(byte[] bytes)
    {
        for (var i = 0; i + 1 < bytes.Length; i++)
        {
            if (bytes[i] == '\n' && bytes[i + 1] == '\n')
            {
                return (i, i + 2);
            }

            if (i + 3 < bytes.Length && bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return (i, i + 4);
            }
        }

        return (bytes.Length, bytes.Length);
    }
}
