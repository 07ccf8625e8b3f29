
namespace FleetFunctions.Core.Policy;

/// <summary>
/// Kyverno's arithmetic functions: numbers, Kubernetes quantities (<c>'250m'</c>, <c>'1Gi'</c>) and Go durations
/// (<c>'1h30m'</c>). Quantity ⊕ quantity gives a quantity, quantity ÷ quantity a number, quantity × number a quantity.
/// </summary>
internal static class Arithmetic
{
    private enum OperandKind
    {
        Number,
        Quantity,
        Duration,
    }

    private readonly record struct Operand(OperandKind Kind, double Number, Quantity Quantity, long Nanos);

    public static object? Apply(string op, object? left, object? right)
    {
        var a = Parse(op, left, 1);
        var b = Parse(op, right, 2);

        // '30m' is both 30 milli and 30 minutes: next to a duration it is a duration.
        if (a.Kind == OperandKind.Duration && b.Kind == OperandKind.Quantity && AsDuration(right) is { } bd)
        {
            b = bd;
        }
        else if (b.Kind == OperandKind.Duration && a.Kind == OperandKind.Quantity && AsDuration(left) is { } ad)
        {
            a = ad;
        }
        switch (op)
        {
            case "add" or "subtract":
                if (a.Kind != b.Kind)
                {
                    throw Mismatch(op, a, b);
                }

                var sign = op == "add" ? 1 : -1;
                return a.Kind switch
                {
                    OperandKind.Number => (object?)(a.Number + (sign * b.Number)),
                    OperandKind.Quantity => (sign > 0 ? a.Quantity + b.Quantity : a.Quantity - b.Quantity).ToString(),
                    _ => GoDuration.Format(a.Nanos + (sign * b.Nanos)),
                };
            case "multiply":
                return (a.Kind, b.Kind) switch
                {
                    (OperandKind.Number, OperandKind.Number) => (object?)(a.Number * b.Number),
                    (OperandKind.Quantity, OperandKind.Number) => a.Quantity.Multiply(b.Number).ToString(),
                    (OperandKind.Number, OperandKind.Quantity) => b.Quantity.Multiply(a.Number).ToString(),
                    (OperandKind.Duration, OperandKind.Number) => GoDuration.Format((long)(a.Nanos * b.Number)),
                    (OperandKind.Number, OperandKind.Duration) => GoDuration.Format((long)(b.Nanos * a.Number)),
                    _ => throw Mismatch(op, a, b),
                };
            case "divide":
                if (IsZero(b))
                {
                    throw new PolicyEvaluationException("function divide(): division by zero");
                }

                return (a.Kind, b.Kind) switch
                {
                    (OperandKind.Number, OperandKind.Number) => (object?)(a.Number / b.Number),
                    (OperandKind.Quantity, OperandKind.Quantity) => (object?)(a.Quantity.ToDouble() / b.Quantity.ToDouble()),
                    (OperandKind.Duration, OperandKind.Duration) => (object?)((double)a.Nanos / b.Nanos),
                    (OperandKind.Quantity, OperandKind.Number) => a.Quantity.Divide(b.Number).ToString(),
                    (OperandKind.Duration, OperandKind.Number) => GoDuration.Format((long)(a.Nanos / b.Number)),
                    _ => throw Mismatch(op, a, b),
                };
            default:
                if (IsZero(b))
                {
                    throw new PolicyEvaluationException("function modulo(): division by zero");
                }

                return (a.Kind, b.Kind) switch
                {
                    (OperandKind.Number, OperandKind.Number) when a.Number == Math.Floor(a.Number) && b.Number == Math.Floor(b.Number) => (object?)(double)((long)a.Number % (long)b.Number),
                    (OperandKind.Quantity, OperandKind.Quantity) => a.Quantity.Modulo(b.Quantity).ToString(),
                    (OperandKind.Duration, OperandKind.Duration) => GoDuration.Format(a.Nanos % b.Nanos),
                    _ => throw Mismatch(op, a, b),
                };
        }
    }

    private static bool IsZero(Operand o) => o.Kind switch
    {
        OperandKind.Number => o.Number == 0,
        OperandKind.Quantity => o.Quantity.Numerator.IsZero,
        _ => o.Nanos == 0,
    };

    private static PolicyEvaluationException Mismatch(string op, Operand a, Operand b) =>
        new($"function {op}(): cannot combine a {a.Kind.ToString().ToLowerInvariant()} with a {b.Kind.ToString().ToLowerInvariant()}");

    private static Operand? AsDuration(object? token) =>
        token is string s && GoDuration.TryParse(s, out var d) ? new Operand(OperandKind.Duration, 0, default, d) : null;

    private static Operand Parse(string op, object? token, int position)
    {
        switch (token)
        {
            case long or double:
                return new Operand(OperandKind.Number, JmesValue.ToDouble(token), default, 0);
            case string s:
                if (Quantity.TryParse(s, out var q))
                {
                    return new Operand(OperandKind.Quantity, 0, q, 0);
                }

                if (GoDuration.TryParse(s, out var d))
                {
                    return new Operand(OperandKind.Duration, 0, default, d);
                }

                break;
        }

        throw new PolicyEvaluationException($"function {op}(): argument {position} ('{JmesValue.ToJson(token)}') is not a number, a quantity or a duration");
    }
}
