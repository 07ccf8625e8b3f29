using System.Buffers.Text;
using System.Text;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>
/// The continuation tokens of instance queries: the table's "partitionKey rowKey" position, base64url-encoded behind a
/// version prefix. Table storage reads any text as a position (and answers an empty page for one it cannot place), so a
/// token the engine did not issue is recognised here instead of ending a listing early without a word.
/// </summary>
internal static class QueryContinuation
{
    private const string Prefix = "q1.";

    public static string? Encode(string? position) =>
        string.IsNullOrEmpty(position) ? null : Prefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(position));

    public static bool TryDecode(string token, out string position)
    {
        position = string.Empty;
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || !Base64Url.IsValid(token.AsSpan(Prefix.Length)))
        {
            return false;
        }

        position = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(Prefix.Length)));
        return position.Contains(' ', StringComparison.Ordinal);
    }
}
