namespace FleetFunctions.Core.Secrets;

/// <summary>
/// Resolves a <c>secretRef</c> name (webhook secrets, Git tokens, cluster tokens) to its value. Resources in
/// Git only ever name secrets; the values live in the store (environment, mounted files, Key Vault).
/// </summary>
public interface ISecretStore
{
    /// <summary>Returns the secret's value, or null when this store does not hold it.</summary>
    ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>What the stores do to a value as stored.</summary>
internal static class SecretValue
{
    /// <summary>
    /// <paramref name="stored"/> without the line ends tools leave after it (<c>kubectl create token sa &gt; token.txt</c>,
    /// <c>echo</c>, editors; a file uploaded to Key Vault keeps them): no token, password or key ends in one, and sent in
    /// a header it would fail the request.
    /// </summary>
    public static string WithoutTrailingLineEnds(string stored) => stored.TrimEnd('\r', '\n');
}

/// <summary>
/// Secrets from environment variables: <c>FLEETFUNCTIONS_SECRET_&lt;NAME&gt;</c>, with the name upper-cased and
/// every character that is not a letter or digit turned into <c>_</c> (so <c>apps-webhook</c> is
/// <c>FLEETFUNCTIONS_SECRET_APPS_WEBHOOK</c>). App settings in Azure arrive as environment variables.
/// </summary>
public sealed class EnvironmentSecretStore : ISecretStore
{
    public const string Prefix = "FLEETFUNCTIONS_SECRET_";

    public static string VariableFor(string name) =>
        Prefix + new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray());

    /// <summary>
    /// The value without trailing line ends, or null when the variable is unset or still holds an App Service Key Vault
    /// reference (<c>@Microsoft.KeyVault(...)</c>) that was not resolved: that text is no secret, and using it as one
    /// would fail as a wrong signature or password far from the cause.
    /// </summary>
    public ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Environment.GetEnvironmentVariable(VariableFor(name)) is { } stored && SecretValue.WithoutTrailingLineEnds(stored) is { Length: > 0 } value && !IsUnresolvedReference(value)
            ? value
            : null);

    /// <summary>What to do about a secret the stores do not hold: set its variable, or make its Key Vault reference resolve.</summary>
    public static string HowToSet(string name) =>
        Environment.GetEnvironmentVariable(VariableFor(name)) is { } value && IsUnresolvedReference(value)
            ? $"{VariableFor(name)} is a Key Vault reference the app could not resolve: add secret '{name}' to the vault, let the app's identity read it (Key Vault Secrets User), then restart the app"
            : $"set {VariableFor(name)}";

    private static bool IsUnresolvedReference(string value) => value.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Secrets as files in a directory, one file per name (the layout of mounted Kubernetes or Docker secrets), without
/// trailing line ends.
/// </summary>
public sealed class DirectorySecretStore(string directory) : ISecretStore
{
    public async ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.StartsWith('.'))
        {
            return null;
        }

        var path = Path.Combine(directory, name);
        return File.Exists(path) ? SecretValue.WithoutTrailingLineEnds(await File.ReadAllTextAsync(path, cancellationToken)) : null;
    }
}

/// <summary>Asks each store in turn; the first that holds the secret wins.</summary>
public sealed class CompositeSecretStore(IEnumerable<ISecretStore> stores) : ISecretStore
{
    private readonly ISecretStore[] _stores = stores.ToArray();

    public async ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach (var store in _stores)
        {
            if (await store.GetAsync(name, cancellationToken) is { } value)
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>Secrets held in memory (tests, the demo, and stores filled from another source at start-up).</summary>
public sealed class InMemorySecretStore(IReadOnlyDictionary<string, string> secrets) : ISecretStore
{
    public ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(secrets.TryGetValue(name, out var value) ? value : null);
}
