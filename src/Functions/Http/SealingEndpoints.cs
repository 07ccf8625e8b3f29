using FleetFunctions.Core.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FleetFunctions.Functions.Http;

/// <summary>
/// FleetFunctions' sealing certificate, for <c>kubeseal --cert https://&lt;app&gt;/api/sealing/cert.pem</c> (the path
/// and media type of the sealed-secrets controller's <c>/v1/cert.pem</c>). Anonymous: a certificate is public, and
/// kubeseal sends no credentials.
/// </summary>
internal static class SealingEndpoints
{
    public static IEndpointRouteBuilder MapSealing(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/sealing/cert.pem", GetCertificateAsync);
        return app;
    }

    private static async Task<IResult> GetCertificateAsync(ISealingKeySource keys, CancellationToken cancellationToken)
    {
        try
        {
            return Results.Text((await keys.GetAsync(cancellationToken)).CertificatePem, "application/x-pem-file");
        }
        catch (SealingException e)
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, "No sealing certificate", e.Message);
        }
    }
}
