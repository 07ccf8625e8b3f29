using System.Globalization;
using System.Text;

namespace FleetFunctions.Core.Storage;

/// <summary>
/// Reversible escaping of arbitrary strings into Azure Table PartitionKey/RowKey values, which must not
/// contain <c>/ \ # ?</c>, control characters or <c>%</c>-ambiguous text. Escapes as <c>%XX</c> (UTF-8).
/// </summary>
public static class TableKey
{
    /// <summary>Escapes <paramref name="value"/>; the result sorts like the input for ASCII letters and digits.</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (b < 0x80 && c is not ('/' or '\\' or '#' or '?' or '%' or '\'') && !char.IsControl(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Reverses <see cref="Escape"/>.</summary>
    public static string Unescape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length)
            {
                bytes.Add(byte.Parse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Escapes each part (also escaping <c>~</c>) and joins them with <c>~</c>: a composite key that cannot collide.</summary>
    public static string Join(params string[] parts) => string.Join("~", parts.Select(p => Escape(p).Replace("~", "%7E", StringComparison.Ordinal)));
}
