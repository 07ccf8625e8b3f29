using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace FleetFunctions.Core.Storage;

/// <summary>
/// The Azure Storage account holding the app's tables, queues and blobs, and how to reach it: a connection
/// string (Azurite, shared key, SAS), or the account's endpoints with an Entra ID token credential (a managed
/// identity in Azure, where the account has shared keys disabled). Creates the SDK clients; thread-safe.
/// </summary>
public sealed class StorageAccount
{
    private readonly string? _connectionString;
    private readonly Uri? _tableEndpoint;
    private readonly Uri? _queueEndpoint;
    private readonly Uri? _blobEndpoint;
    private readonly TokenCredential? _credential;

    private StorageAccount(string description, string? connectionString, Uri? table, Uri? queue, Uri? blob, TokenCredential? credential)
    {
        Description = description;
        _connectionString = connectionString;
        _tableEndpoint = table;
        _queueEndpoint = queue;
        _blobEndpoint = blob;
        _credential = credential;
    }

    /// <summary>What the account is, for messages and logs; never contains a key.</summary>
    public string Description { get; }

    /// <summary>An account addressed by a connection string.</summary>
    public static StorageAccount FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StorageAccount("storage account from a connection string", connectionString, null, null, null, null);
    }

    /// <summary>
    /// An Azure account by name, authenticated with <paramref name="credential"/>: endpoints
    /// <c>https://{account}.{table|queue|blob}.{endpointSuffix}</c>.
    /// </summary>
    public static StorageAccount FromIdentity(string accountName, TokenCredential credential, string endpointSuffix = "core.windows.net")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountName);
        ArgumentException.ThrowIfNullOrWhiteSpace(endpointSuffix);
        if (accountName.Length is < 3 or > 24 || !accountName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new ArgumentException(
                $"storage account name '{accountName}' is invalid: Azure account names are 3-24 lower-case letters and digits.", nameof(accountName));
        }

        return FromIdentity(
            new Uri($"https://{accountName}.table.{endpointSuffix}/"),
            new Uri($"https://{accountName}.queue.{endpointSuffix}/"),
            new Uri($"https://{accountName}.blob.{endpointSuffix}/"),
            credential,
            $"storage account {accountName}");
    }

    /// <summary>An account by explicit service endpoints, authenticated with <paramref name="credential"/>.</summary>
    public static StorageAccount FromIdentity(Uri tableEndpoint, Uri queueEndpoint, Uri blobEndpoint, TokenCredential credential) =>
        FromIdentity(tableEndpoint, queueEndpoint, blobEndpoint, credential, $"storage account at {tableEndpoint.Host}");

    private static StorageAccount FromIdentity(Uri table, Uri queue, Uri blob, TokenCredential credential, string description)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(credential);
        return new StorageAccount(description, null, WithSlash(table), WithSlash(queue), WithSlash(blob), credential);
    }

    /// <summary>Whether the account is reached with a token credential rather than a connection string.</summary>
    public bool UsesIdentity => _credential is not null;

    public TableServiceClient CreateTableServiceClient(TableClientOptions? options = null) =>
        _connectionString is not null
            ? new TableServiceClient(_connectionString, options ?? new TableClientOptions())
            : new TableServiceClient(_tableEndpoint!, _credential!, options ?? new TableClientOptions());

    public TableClient CreateTableClient(string tableName, TableClientOptions? options = null) =>
        CreateTableServiceClient(options).GetTableClient(tableName);

    public QueueClient CreateQueueClient(string queueName, QueueClientOptions? options = null) =>
        _connectionString is not null
            ? new QueueClient(_connectionString, queueName, options ?? new QueueClientOptions())
            : new QueueClient(new Uri(_queueEndpoint!, queueName), _credential!, options ?? new QueueClientOptions());

    public BlobContainerClient CreateBlobContainerClient(string containerName, BlobClientOptions? options = null) =>
        _connectionString is not null
            ? new BlobContainerClient(_connectionString, containerName, options ?? new BlobClientOptions())
            : new BlobContainerClient(new Uri(_blobEndpoint!, containerName), _credential!, options ?? new BlobClientOptions());

    public override string ToString() => Description;

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
