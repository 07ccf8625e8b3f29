using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Functions.Http;

/// <summary>RFC 7807 problem details, the shape of every error the HTTP API returns.</summary>
internal static class Problem
{
    public static IResult Of(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"https://httpstatuses.io/{status}", extensions: extensions);

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "Not Found", detail);

    public static IResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, "Bad Request", detail);
}
