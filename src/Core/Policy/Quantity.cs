using System.Globalization;
using System.Numerics;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A Kubernetes resource quantity (<c>500m</c>, <c>1.5Gi</c>, <c>2e3</c>), held exactly as a rational
/// number so that comparisons and arithmetic are precise.
/// </summary>
public readonly record struct Quantity(BigInteger Numerator, BigInteger Denominator, bool Binary) : IComparable<Quantity>
{
    private static readonly (string Suffix, int Power)[] s_binary =
        [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];

    private static readonly (string Suffix, int Exponent)[] s_decimal =
        [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];

    /// <summary>Parses a quantity; false when the text is not one.</summary>
    public static bool TryParse(string? text, out Quantity quantity)
    {
        quantity = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var s = text.AsSpan();
        var i = 0;
        var negative = false;
        if (s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            i++;
        }

        var numberStart = i;
        var digits = 0;
        var dot = false;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || (s[i] == '.' && !dot)))
        {
            if (s[i] == '.')
            {
                dot = true;
            }
            else
            {
                digits++;
            }

            i++;
        }

        if (digits == 0)
        {
            return false;
        }

        var number = s[numberStart..i].ToString();
        var suffix = s[i..].ToString();
        var intPart = number;
        var fracPart = "";
        var dotAt = number.IndexOf('.', StringComparison.Ordinal);
        if (dotAt >= 0)
        {
            intPart = number[..dotAt];
            fracPart = number[(dotAt + 1)..];
        }

        var num = BigInteger.Parse("0" + intPart + fracPart, CultureInfo.InvariantCulture);
        var den = BigInteger.Pow(10, fracPart.Length);
        var binary = false;
        if (suffix.Length > 0)
        {
            var matched = false;
            foreach (var (sfx, power) in s_binary)
            {
                if (suffix == sfx)
                {
                    num *= BigInteger.Pow(2, power);
                    binary = true;
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                foreach (var (sfx, exp) in s_decimal)
                {
                    if (sfx.Length > 0 && suffix == sfx)
                    {
                        Scale(ref num, ref den, exp);
                        matched = true;
                        break;
                    }
                }
            }

            if (!matched && suffix[0] is 'e' or 'E' && int.TryParse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var e10) && suffix.Length > 1)
            {
                Scale(ref num, ref den, e10);
                matched = true;
            }

            if (!matched)
            {
                return false;
            }
        }

        if (negative)
        {
            num = -num;
        }

        quantity = Normalize(num, den, binary);
        return true;
    }

    private static void Scale(ref BigInteger num, ref BigInteger den, int exponent)
    {
        if (exponent >= 0)
        {
            num *= BigInteger.Pow(10, exponent);
        }
        else
        {
            den *= BigInteger.Pow(10, -exponent);
        }
    }

    private static Quantity Normalize(BigInteger num, BigInteger den, bool binary)
    {
        if (den.Sign < 0)
        {
            num = -num;
            den = -den;
        }

        var gcd = BigInteger.GreatestCommonDivisor(num, den);
        if (!gcd.IsZero && !gcd.IsOne)
        {
            num /= gcd;
            den /= gcd;
        }

        return new Quantity(num, den.IsZero ? BigInteger.One : den, binary);
    }

    /// <summary>The value as a double.</summary>
    public double ToDouble() => (double)Numerator / (double)Denominator;

    public int CompareTo(Quantity other) => (Numerator * other.Denominator).CompareTo(other.Numerator * Denominator);

    public static Quantity operator +(Quantity a, Quantity b) =>
        Normalize((a.Numerator * b.Denominator) + (b.Numerator * a.Denominator), a.Denominator * b.Denominator, a.Binary);

    public static Quantity operator -(Quantity a, Quantity b) =>
        Normalize((a.Numerator * b.Denominator) - (b.Numerator * a.Denominator), a.Denominator * b.Denominator, a.Binary);

    /// <summary>Multiplies by a plain number.</summary>
    public Quantity Multiply(double factor)
    {
        var f = FromDouble(factor);
        return Normalize(Numerator * f.Numerator, Denominator * f.Denominator, Binary);
    }

    /// <summary>Divides by a plain number.</summary>
    public Quantity Divide(double divisor)
    {
        var f = FromDouble(divisor);
        return Normalize(Numerator * f.Denominator, Denominator * f.Numerator, Binary);
    }

    /// <summary>Remainder of two quantities.</summary>
    public Quantity Modulo(Quantity other)
    {
        var a = Numerator * other.Denominator;
        var b = other.Numerator * Denominator;
        return Normalize(BigInteger.Remainder(a, b), Denominator * other.Denominator, Binary);
    }

    public static Quantity FromDouble(double value)
    {
        var text = value.ToString("0.#################", CultureInfo.InvariantCulture);
        return TryParse(text, out var q) ? q : new Quantity(new BigInteger(value), BigInteger.One, false);
    }

    /// <summary>Kubernetes' canonical form: the largest suffix that keeps the number whole.</summary>
    public override string ToString()
    {
        if (Numerator.IsZero)
        {
            return "0";
        }

        if (Binary && Denominator.IsOne)
        {
            for (var k = s_binary.Length - 1; k >= 0; k--)
            {
                var unit = BigInteger.Pow(2, s_binary[k].Power);
                if (BigInteger.Remainder(Numerator, unit).IsZero)
                {
                    return (Numerator / unit).ToString(CultureInfo.InvariantCulture) + s_binary[k].Suffix;
                }
            }

            return Numerator.ToString(CultureInfo.InvariantCulture);
        }

        for (var k = s_decimal.Length - 1; k >= 0; k--)
        {
            var (suffix, exp) = s_decimal[k];
            BigInteger num = Numerator, den = Denominator;
            Scale(ref den, ref num, exp); // value / 10^exp
            if (BigInteger.Remainder(num, den).IsZero)
            {
                return (num / den).ToString(CultureInfo.InvariantCulture) + suffix;
            }
        }

        // Finer than nano: round up to the next nano as Kubernetes does.
        var nanos = BigInteger.Divide((Numerator * BigInteger.Pow(10, 9)) + Denominator - 1, Denominator);
        return nanos.ToString(CultureInfo.InvariantCulture) + "n";
    }
}
