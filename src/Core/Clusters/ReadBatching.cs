namespace FleetFunctions.Core.Clusters;

/// <summary>When reading many objects, a paged LIST of their resource and namespace replaces a GET per object.</summary>
public static class ReadBatching
{
    /// <summary>Objects of one resource in one namespace from which one LIST is cheaper than their GETs.</summary>
    public const int ListThreshold = 4;

    /// <summary>Objects per LIST page (<c>limit</c>); a consumer holds at most one page.</summary>
    public const int PageSize = 20;
}
