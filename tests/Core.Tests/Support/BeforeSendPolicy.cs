using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Tests.Support;

/// <summary>Runs <paramref name="beforeSend"/> before each storage request is sent, to hold some of them back.</summary>
internal sealed class BeforeSendPolicy(Func<HttpMessage, Task> beforeSend) : HttpPipelinePolicy
{
    /// <summary>An inventory store on table <paramref name="table"/> whose requests pass through <paramref name="beforeSend"/> first.</summary>
    public static InventoryStore InventoryStore(string connectionString, string table, Func<HttpMessage, Task> beforeSend)
    {
        var options = new TableClientOptions();
        options.AddPolicy(new BeforeSendPolicy(beforeSend), HttpPipelinePosition.PerCall);
        return new InventoryStore(StorageAccount.FromConnectionString(connectionString).CreateTableServiceClient(options), new InventoryOptions { TableName = table });
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await beforeSend(message);
        await ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        beforeSend(message).GetAwaiter().GetResult();
        ProcessNext(message, pipeline);
    }
}
