using Azure.Data.Tables;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>
/// Long strings in table entities: a string property holds at most 32K characters, so longer text is split
/// over <c>Name</c>, <c>Name_1</c>, <c>Name_2</c>... and joined on read.
/// </summary>
internal static class TableText
{
    public const int ChunkChars = 30_000;

    public static void Set(TableEntity entity, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length <= ChunkChars)
        {
            entity[name] = value;
            return;
        }

        for (int offset = 0, i = 0; offset < value.Length; offset += ChunkChars, i++)
        {
            entity[i == 0 ? name : $"{name}_{i}"] = value.Substring(offset, Math.Min(ChunkChars, value.Length - offset));
        }
    }

    /// <summary>
    /// <paramref name="text"/> as one string property holds it: whole when it fits in <see cref="ChunkChars"/>, else cut
    /// (never inside a surrogate pair) and ended with a count of the characters left out.
    /// </summary>
    public static string Cut(string text)
    {
        if (text.Length <= ChunkChars)
        {
            return text;
        }

        // The marker's own length depends on the count it names: reserve room for the longest count a string has.
        var kept = ChunkChars - Marker(int.MaxValue).Length;
        if (char.IsHighSurrogate(text[kept - 1]))
        {
            kept--;
        }

        return text[..kept] + Marker(text.Length - kept);

        static string Marker(int omitted) => $"… ({omitted} more characters)";
    }

    public static string? Get(TableEntity entity, string name)
    {
        if (!entity.TryGetValue(name, out var first) || first is not string head)
        {
            return null;
        }

        if (!entity.ContainsKey($"{name}_1"))
        {
            return head;
        }

        var sb = new System.Text.StringBuilder(head);
        for (var i = 1; entity.TryGetValue($"{name}_{i}", out var part) && part is string s; i++)
        {
            sb.Append(s);
        }

        return sb.ToString();
    }
}
