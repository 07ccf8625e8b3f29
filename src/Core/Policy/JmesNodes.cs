namespace FleetFunctions.Core.Policy;

internal sealed class FieldNode(string name) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (input is not RootMarker)
        {
            return JmesValue.Field(input, name);
        }

        return ctx.Scope.TryLookup(name, out var value) ? value : throw new UnknownVariableException(name);
    }
}

internal sealed class LiteralNode(object? value) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) => value;
}

internal sealed class CurrentNode : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) => input;
}

internal sealed class RootNode : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) => RootMarker.Instance;
}

internal sealed class ExpressionRefNode(JNode inner) : JNode
{
    public JNode Inner { get; } = inner;

    public override object? Eval(object? input, JContext ctx) => this;

    protected override object? EvalPlain(object? input, JContext ctx) => this;

    /// <summary>Applies the referenced expression to one value (sort_by, map, max_by...).</summary>
    public object? Apply(object? value, JContext ctx) => Materialize(Inner.Eval(value, ctx));
}

internal sealed class IndexNode(int index) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var items = JmesValue.Items(input is RootMarker ? null : input);
        if (JmesValue.TypeOf(input) != JmesValue.Type.Array)
        {
            return null;
        }

        var i = index < 0 ? items.Count + index : index;
        return i >= 0 && i < items.Count ? items[i] : null;
    }
}

internal sealed class FlattenNode : JNode
{
    public override object? Eval(object? input, JContext ctx) => EvalPlain(Resolve(input, ctx), ctx);

    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (JmesValue.TypeOf(input) != JmesValue.Type.Array)
        {
            return null;
        }

        var result = new List<object?>();
        foreach (var item in JmesValue.Items(input))
        {
            if (JmesValue.TypeOf(item) == JmesValue.Type.Array)
            {
                result.AddRange(JmesValue.Items(item));
            }
            else
            {
                result.Add(item);
            }
        }

        return new Projection(result);
    }
}

internal sealed class ListWildcardNode : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) =>
        JmesValue.TypeOf(input) == JmesValue.Type.Array ? new Projection([.. JmesValue.Items(input)]) : null;
}

internal sealed class HashWildcardNode : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (input is RootMarker)
        {
            input = ctx.Scope.Snapshot();
        }

        return JmesValue.TypeOf(input) == JmesValue.Type.Object ? new Projection([.. JmesValue.Properties(input).Select(p => p.Value)]) : null;
    }
}

internal sealed class SliceNode(int? start, int? stop, int? step) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (JmesValue.TypeOf(input) != JmesValue.Type.Array)
        {
            return null;
        }

        var items = JmesValue.Items(input);
        var n = items.Count;
        var s = step ?? 1;
        if (s == 0)
        {
            throw new PolicyEvaluationException("JMESPath slice step cannot be 0");
        }

        int Clamp(int? v, int dflt)
        {
            if (v is null)
            {
                return dflt;
            }

            var x = v.Value < 0 ? v.Value + n : v.Value;
            return s > 0 ? Math.Clamp(x, 0, n) : Math.Clamp(x, -1, n - 1);
        }

        var from = Clamp(start, s > 0 ? 0 : n - 1);
        var to = Clamp(stop, s > 0 ? n : -1);
        var result = new List<object?>();
        for (var i = from; s > 0 ? i < to : i > to; i += s)
        {
            result.Add(items[i]);
        }

        return new Projection(result);
    }
}

internal sealed class FilterNode(JNode condition) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (JmesValue.TypeOf(input) != JmesValue.Type.Array)
        {
            return null;
        }

        var result = new List<object?>();
        foreach (var item in JmesValue.Items(input))
        {
            if (!JmesValue.IsFalse(Resolve(condition.Eval(item, ctx), ctx)))
            {
                result.Add(item);
            }
        }

        return new Projection(result);
    }
}

internal sealed class MultiListNode(JNode[] items) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (input is null)
        {
            return null;
        }

        var result = new List<object?>(items.Length);
        foreach (var item in items)
        {
            result.Add(Resolve(item.Eval(input, ctx), ctx));
        }

        return result;
    }
}

internal sealed class MultiHashNode((string Key, JNode Value)[] items) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        if (input is null)
        {
            return null;
        }

        var result = new Dictionary<string, object?>(items.Length, StringComparer.Ordinal);
        foreach (var (key, value) in items)
        {
            result[key] = Resolve(value.Eval(input, ctx), ctx);
        }

        return result;
    }
}

internal sealed class NotNode(JNode inner) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) => JmesValue.IsFalse(Resolve(inner.Eval(input, ctx), ctx));
}

internal sealed class ChainNode(JNode left, JNode right) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var l = left.Eval(input, ctx);
        return l is null ? null : right.Eval(l, ctx);
    }
}

internal sealed class PipeNode(JNode left, JNode right) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx) => right.Eval(Materialize(left.Eval(input, ctx)), ctx);
}

internal sealed class OrNode(JNode left, JNode right) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        object? l;
        try
        {
            l = Resolve(left.Eval(input, ctx), ctx);
        }
        catch (UnknownVariableException)
        {
            l = null;
        }

        return JmesValue.IsFalse(l) ? Resolve(right.Eval(input, ctx), ctx) : l;
    }
}

internal sealed class AndNode(JNode left, JNode right) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var l = Resolve(left.Eval(input, ctx), ctx);
        return JmesValue.IsFalse(l) ? l : Resolve(right.Eval(input, ctx), ctx);
    }
}

internal sealed class CompareNode(JNode left, JNode right, string op) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var l = Resolve(left.Eval(input, ctx), ctx);
        var r = Resolve(right.Eval(input, ctx), ctx);
        switch (op)
        {
            case "==": return JmesValue.DeepEquals(l, r);
            case "!=": return !JmesValue.DeepEquals(l, r);
        }

        if (JmesValue.TypeOf(l) != JmesValue.Type.Number || JmesValue.TypeOf(r) != JmesValue.Type.Number)
        {
            return null;
        }

        var a = JmesValue.ToDouble(l);
        var b = JmesValue.ToDouble(r);
        return op switch
        {
            ">" => a > b,
            ">=" => a >= b,
            "<" => a < b,
            _ => a <= b,
        };
    }
}

internal sealed class ArithmeticNode(JNode left, JNode right, string op) : JNode
{
    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var l = Resolve(left.Eval(input, ctx), ctx);
        var r = Resolve(right.Eval(input, ctx), ctx);
        if (JmesValue.TypeOf(l) != JmesValue.Type.Number || JmesValue.TypeOf(r) != JmesValue.Type.Number)
        {
            return null;
        }

        var a = JmesValue.ToDouble(l);
        var b = JmesValue.ToDouble(r);
        return op switch
        {
            "+" => a + b,
            "-" => a - b,
            "*" => a * b,
            "/" => a / b,
            "//" => Math.Floor(a / b),
            _ => a % b,
        };
    }
}

internal sealed class FunctionNode(string name, JNode[] args) : JNode
{
    private readonly JmesFunction _function = JmesFunctions.Get(name);

    protected override object? EvalPlain(object? input, JContext ctx)
    {
        var values = new object?[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            values[i] = args[i] is ExpressionRefNode reference ? reference : Resolve(args[i].Eval(input, ctx), ctx);
        }

        return _function.Invoke(values, ctx);
    }
}
