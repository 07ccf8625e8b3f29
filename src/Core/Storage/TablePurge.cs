using Azure.Data.Tables;

namespace FleetFunctions.Core.Storage;

/// <summary>
/// Deletes expired rows of a table partition at most once a day per key and process: the
/// retention of stores whose rows are keyed newest first (inverted ticks), so "older than" is a row key range, or carry
/// the time they were written in a property.
/// Thread-safe; a failed purge is tried again at the next call.
/// </summary>
public sealed class TablePurge(TableClient table)
{
    /// <summary>How often one key is purged.</summary>
    private static readonly TimeSpan s_interval = TimeSpan.FromDays(1);

    private readonly ForgetfulMap<string, DateTimeOffset> _next = new(20_000, StringComparer.Ordinal);

    /// <summary>The inverted-tick row key part of <paramref name="at"/>: later times sort first.</summary>
    public static string InvertedTicks(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Deletes the rows of <paramref name="partition"/> whose keys lie strictly between <paramref name="fromRow"/> and
    /// <paramref name="toRow"/>, unless <paramref name="key"/> was purged within a day of <paramref name="now"/>.
    /// Storage failures are swallowed (the rows wait for the next purge; another process may have deleted some).
    /// </summary>
    public Task PurgeAsync(string key, DateTimeOffset now, string partition, string fromRow, string toRow) =>
        PurgeWhereAsync(key, now, partition, TableClient.CreateQueryFilter($"RowKey gt {fromRow} and RowKey lt {toRow}"));

    /// <summary>
    /// Deletes the rows of <paramref name="partition"/> that match <paramref name="condition"/> (an OData filter, such as
    /// a time property before a cutoff, for rows not keyed by time), unless <paramref name="key"/> was purged within a
    /// day of <paramref name="now"/>. Storage failures are swallowed, as by <see cref="PurgeAsync"/>.
    /// </summary>
    public async Task PurgeWhereAsync(string key, DateTimeOffset now, string partition, string condition)
    {
        if (_next.TryGetValue(key, out var next) && now < next)
        {
            return;
        }

        _next.Set(key, now + s_interval);
        try
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}") + $" and ({condition})";
            var expired = new List<TableTransactionAction>();
            await foreach (var e in table.QueryAsync<TableEntity>(filter, select: ["RowKey"]))
            {
                expired.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, e.RowKey), Azure.ETag.All));
            }

            foreach (var chunk in expired.Chunk(100))
            {
                await table.SubmitTransactionAsync(chunk);
            }
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
        {
            _next.Remove(key);
        }
    }
}
