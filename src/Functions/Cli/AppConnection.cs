using System.CommandLine;
using System.Net;
using System.Text.Json;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// How the <c>rollout</c> verbs reach a running app: its base URL (<c>--url</c>, else <c>$FLEETFUNCTIONS_URL</c>, else
/// the Functions host's local default) and its API key (<c>--api-key</c>, else <c>$FLEETFUNCTIONS_ApiKey</c>), sent as
/// <c>x-api-key</c> and <c>x-functions-key</c> so that the standalone app and the Functions host both take it.
/// </summary>
internal sealed class AppConnection
{
    public const string UrlVariable = "FLEETFUNCTIONS_URL";
    public const string ApiKeyVariable = "FLEETFUNCTIONS_ApiKey";
    public const string RefusedKeyHint = $"give the API key (function key behind the Functions host) with --api-key or ${ApiKeyVariable}";
    private const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>One client for every request of the process (a listing's pages reuse its connection).</summary>
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Option<string?> Url { get; } = new("--url") { Description = $"Base URL of the app (default ${UrlVariable}, else {DefaultUrl})." };

    public Option<string?> ApiKey { get; } = new("--api-key") { Description = $"API key or function key (default ${ApiKeyVariable}); sent as x-api-key and x-functions-key." };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(ApiKey);
    }

    public string? Key(ParseResult parseResult) => parseResult.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable);

    /// <summary>The app's base URL (ending in '/'), or null with the problem added.</summary>
    public Uri? Root(ParseResult parseResult, List<string> problems)
    {
        var text = parseResult.GetValue(Url) ?? Environment.GetEnvironmentVariable(UrlVariable);
        text = text is { Length: > 0 } ? text : DefaultUrl;
        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
        {
            problems.Add($"--url '{text}' is not an http(s) URL: give the app's base URL, such as https://myapp.azurewebsites.net");
            return null;
        }

        return root;
    }

    /// <summary>
    /// The status URL of a rollout given as a URL (returned as it is) or an instance id (<c>api/rollouts/ID</c> under
    /// the app's base URL); null with the problem added.
    /// </summary>
    public Uri? StatusUrl(string target, ParseResult parseResult, List<string> problems)
    {
        if (Uri.TryCreate(target, UriKind.Absolute, out var direct) && direct.Scheme is "http" or "https")
        {
            return direct;
        }

        if (target.Contains('/', StringComparison.Ordinal) || target.Contains("://", StringComparison.Ordinal) || target.Length == 0)
        {
            problems.Add($"'{target}' is neither an http(s) status URL nor a rollout instance id (FLEET-COMMIT)");
            return null;
        }

        return Root(parseResult, problems) is { } root ? new Uri(root, "api/rollouts/" + Uri.EscapeDataString(target)) : null;
    }

    /// <summary>
    /// Sends one request with the key (30 s at most) and reads the answer. <see cref="Answer.Problem"/> says what went
    /// wrong, naming the URL: unreachable, no answer in time, or the app's refusal with its reason (and, for a refused
    /// key, how to give one).
    /// </summary>
    public async Task<Answer> SendAsync(HttpRequestMessage request, ParseResult parseResult, CancellationToken cancellationToken)
    {
        Authorize(request, Key(parseResult));
        try
        {
            using var response = await s_http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var continuation = response.Headers.TryGetValues("x-ms-continuation-token", out var tokens) ? tokens.FirstOrDefault() : null;
            var refusedKey = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
            var problem = response.IsSuccessStatusCode ? null
                : $"{request.RequestUri}: {(int)response.StatusCode} {response.ReasonPhrase}: {Detail(body)}{(refusedKey ? "; " + RefusedKeyHint : string.Empty)}";
            return new Answer(response.StatusCode, body, continuation, problem);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new Answer(null, string.Empty, null, $"{request.RequestUri}: {(ex is TaskCanceledException ? "no answer within 30s" : ex.Message)}; is the app running there?");
        }
    }

    public static void Authorize(HttpRequestMessage request, string? key)
    {
        if (key is { Length: > 0 })
        {
            request.Headers.Add("x-api-key", key);
            request.Headers.Add("x-functions-key", key);
        }
    }

    /// <summary>What an error answer says: a problem's <c>detail</c>, an <c>error</c> field, or the start of the body.</summary>
    public static string Detail(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind != JsonValueKind.Object ? body
                : doc.RootElement.TryGetProperty("detail", out var detail) ? detail.ToString()
                : doc.RootElement.TryGetProperty("error", out var e) ? e.ToString()
                : body;
        }
        catch (JsonException)
        {
            return body.Length > 200 ? body[..200] : body;
        }
    }
}

/// <summary>What the app answered (<see cref="Status"/> null: nothing, the app was not reached); <see cref="Problem"/> null when it succeeded.</summary>
internal sealed record Answer(HttpStatusCode? Status, string Body, string? Continuation, string? Problem)
{
    /// <summary>Not sent, or not the app's decision: the key was refused or the app failed (worth trying again).</summary>
    public bool NotDecided => Status is null or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or >= HttpStatusCode.InternalServerError;
}
