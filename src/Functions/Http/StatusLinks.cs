using FleetFunctions.Functions.Hosting;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Functions.Http;

/// <summary>Absolute links to status resources, based on <see cref="AppOptions.PublicBaseUrl"/> or the request's own host.</summary>
internal readonly record struct StatusLinks(Uri BaseUrl)
{
    public static StatusLinks For(HttpRequest request, AppOptions options) =>
        new(options.PublicBaseUrl ?? new Uri($"{request.Scheme}://{request.Host}{request.PathBase}/"));

    public string Rollout(string instanceId) => new Uri(BaseUrl, $"api/rollouts/{Uri.EscapeDataString(instanceId)}").ToString();

    public string Delivery(string provider, string deliveryId) =>
        new Uri(BaseUrl, $"api/deliveries/{Uri.EscapeDataString(provider)}/{Uri.EscapeDataString(deliveryId)}").ToString();
}
