namespace FleetFunctions.TestSupport;

/// <summary>Small applications the rollout and end-to-end tests put in their app repositories.</summary>
public static class TestManifests
{
    /// <summary>Namespace <c>web</c> and a two-replica Deployment <c>web/web</c> running <paramref name="image"/>.</summary>
    public static string WebApp(string image) => $$"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: web
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: web
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
                - name: web
                  image: {{image}}
        """;
}
