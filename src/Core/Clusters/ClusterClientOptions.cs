namespace FleetFunctions.Core.Clusters;

/// <summary>Options of <see cref="ClusterClientFactory"/> and its clients.</summary>
public sealed record ClusterClientOptions
{
    /// <summary>At most this many requests in flight per cluster (bounds load on each API server).</summary>
    public int MaxConcurrentRequestsPerCluster { get; init; } = 16;

    /// <summary>
    /// Timeout of one request: for its answer's headers, then again for its body, so a connection that dies mid-answer fails
    /// the request as unreachable instead of holding it. A watch bounds only its headers; its stream is long-lived.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times a request answered 429 TooManyRequests (API Priority and Fairness), or 5xx with a <c>Retry-After</c>
    /// header, is sent again before that answer counts, as client-go does; 0 sends every request once.
    /// </summary>
    public int ThrottledRetries { get; init; } = 5;

    /// <summary>The longest wait before such a retry, whatever <c>Retry-After</c> asks (a 429 without it waits one second).</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a client replaced by a newer one (rotated token, rewritten kubeconfig) keeps working for the reconciles
    /// and watches that still hold it before it is disposed: longer than any of them holds it.
    /// </summary>
    public TimeSpan ReplacedClientLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Field manager name used for server-side apply.</summary>
    public string FieldManager { get; init; } = "fleetfunctions";

    public ClusterClientOptions Validate()
    {
        if (MaxConcurrentRequestsPerCluster < 1)
        {
            throw new ArgumentException("ClusterClientOptions.MaxConcurrentRequestsPerCluster must be at least 1.");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ClusterClientOptions.RequestTimeout must be positive.");
        }

        if (ThrottledRetries < 0)
        {
            throw new ArgumentException("ClusterClientOptions.ThrottledRetries must not be negative.");
        }

        if (MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentException("ClusterClientOptions.MaxRetryAfter must not be negative.");
        }

        if (ReplacedClientLifetime < TimeSpan.Zero)
        {
            throw new ArgumentException("ClusterClientOptions.ReplacedClientLifetime must not be negative.");
        }

        if (string.IsNullOrWhiteSpace(FieldManager))
        {
            throw new ArgumentException("ClusterClientOptions.FieldManager must not be empty.");
        }

        return this;
    }
}

/// <summary>How the cluster serves one kind: its REST resource name and scope.</summary>
public sealed record ResourceInfo(string Group, string Version, string Kind, string Plural, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}
