using System.Security.Cryptography;
using System.Text;
using FleetFunctions.Functions.Hosting;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Functions.Http;

/// <summary>
/// Protects the status API when standalone: the key from <see cref="AppOptions.ApiKey"/> must arrive as the
/// <c>x-api-key</c> header or the <c>code</c> query parameter (as a function key would). Behind the Functions
/// host, function keys are checked by the host itself before a request is forwarded.
/// </summary>
internal sealed class ApiKeyFilter(AppOptions options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (options.ApiKey is { } expected && !options.IsCustomHandler)
        {
            var request = context.HttpContext.Request;
            var provided = request.Headers["x-api-key"].ToString() is { Length: > 0 } header ? header : request.Query["code"].ToString();
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(provided)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            {
                return Problem.Of(StatusCodes.Status401Unauthorized, "Unauthorized",
                    provided.Length == 0 ? "this endpoint needs the API key: send it as the x-api-key header" : "the API key is not valid");
            }
        }

        return await next(context);
    }
}
