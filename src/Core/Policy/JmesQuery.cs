using System.Reflection;
using DevLab.JmesPath.Expressions;
using Newtonsoft.Json.Linq;

namespace FleetFunctions.Core.Policy;

/// <summary>Where a query starts: top-level names (<c>request</c>, <c>element</c>, context entries...).</summary>
internal interface IJmesScope
{
    /// <summary>A top-level variable; false when no such variable exists (Kyverno's "Unknown key").</summary>
    bool TryLookup(string name, out object? value);

    /// <summary>The whole root as a value (for <c>@</c> or <c>$</c> at the top level).</summary>
    object? Snapshot();
}

/// <summary>
/// A JMESPath expression parsed by JmesPath.Net and compiled into an evaluator that reads the resource's
/// <c>System.Text.Json</c> nodes in place (no conversion, no copies): JmesPath.Net's own evaluator deep-copies
/// Json.NET tokens on every projection, which costs tens of microseconds per expression.
/// </summary>
internal sealed class JmesQuery
{
    private readonly JNode _root;

    private JmesQuery(string text, JNode root)
    {
        Text = text;
        _root = root;
    }

    public string Text { get; }

    public static JmesQuery Compile(string text, JmesPathExpression parsed) => new(text, JmesCompiler.Compile(parsed));

    /// <summary>Evaluates against a scope; projections are materialized into arrays.</summary>
    /// <exception cref="PolicyEvaluationException">A function failed or a top-level variable is not defined.</exception>
    public object? Evaluate(IJmesScope scope) => Run(RootMarker.Instance, scope);

    /// <summary>Evaluates against a plain value (for variable entries with a value).</summary>
    public object? EvaluateOn(object? value, IJmesScope scope) => Run(value, scope);

    private object? Run(object? input, IJmesScope scope)
    {
        try
        {
            return JNode.Materialize(_root.Eval(input, new JContext(scope)));
        }
        catch (UnknownVariableException ex)
        {
            throw new PolicyEvaluationException(
                $"JMESPath query '{Text}' failed: Unknown key \"{ex.Name}\" in path: no variable or context entry named '{ex.Name}' (define it, supply a value, or add a default with ||)");
        }
    }
}

/// <summary>A top-level name that is not defined; <c>||</c> falls back to its right side, like Kyverno.</summary>
internal sealed class UnknownVariableException(string name) : Exception($"Unknown key \"{name}\" in path")
{
    public string Name { get; } = name;
}

internal sealed class RootMarker
{
    public static readonly RootMarker Instance = new();
}

internal readonly record struct JContext(IJmesScope Scope);

/// <summary>A projection in flight: the rest of the expression applies to each element.</summary>
internal sealed class Projection(List<object?> items)
{
    public List<object?> Items { get; } = items;
}

internal abstract class JNode
{
    /// <summary>Evaluates on a plain value; projections are mapped by <see cref="Eval"/>.</summary>
    protected abstract object? EvalPlain(object? input, JContext ctx);

    public virtual object? Eval(object? input, JContext ctx)
    {
        if (input is Projection projection)
        {
            var items = new List<object?>(projection.Items.Count);
            foreach (var item in projection.Items)
            {
                var result = Eval(item, ctx);
                if (result is not null)
                {
                    items.Add(result);
                }
            }

            return new Projection(items);
        }

        return EvalPlain(input, ctx);
    }

    /// <summary>Turns projections (and nested ones) into arrays; the root marker into the root object.</summary>
    public static object? Materialize(object? value) => value switch
    {
        Projection p => p.Items.Select(Materialize).ToList(),
        _ => value,
    };

    protected static object? Resolve(object? value, JContext ctx) => value is RootMarker ? ctx.Scope.Snapshot() : Materialize(value);
}

internal static class JmesCompiler
{
    private static readonly FieldInfo s_left = typeof(JmesPathCompoundExpression).GetField("left_", BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly FieldInfo s_right = typeof(JmesPathCompoundExpression).GetField("right_", BindingFlags.NonPublic | BindingFlags.Instance)!;

    public static JNode Compile(JmesPathExpression e)
    {
        var node = CompileCore(e);
        return e.IsExpressionType ? new ExpressionRefNode(node) : node;
    }

    private static JNode CompileCore(JmesPathExpression e)
    {
        switch (e)
        {
            case JmesPathIdentifier id:
                return new FieldNode(id.Name);
            case JmesPathLiteral literal:
                return new LiteralNode(FromToken(literal.Value));
            case JmesPathRawString raw:
                return new LiteralNode(raw.Value);
            case JmesPathCurrentNodeExpression:
                return new CurrentNode();
            case JmesPathRootNodeExpression:
                return new RootNode();
            case JmesPathIndex index:
                return new IndexNode(index.Index);
            case JmesPathFlattenProjection:
                return new FlattenNode();
            case JmesPathListWildcardProjection:
                return new ListWildcardNode();
            case JmesPathHashWildcardProjection:
                return new HashWildcardNode();
            case JmesPathSliceProjection slice:
                return new SliceNode(slice.Start, slice.Stop, slice.Step);
            case JmesPathFilterProjection filter:
                return new FilterNode(Compile(filter.Expression));
            case JmesPathMultiSelectList list:
                return new MultiListNode([.. list.Expressions.Select(Compile)]);
            case JmesPathMultiSelectHash hash:
                return new MultiHashNode([.. hash.Dictionary.Select(p => (p.Key, Compile(p.Value)))]);
            case JmesPathNotExpression not:
                return new NotNode(Compile(not.Expression));
            case JmesParenExpression paren:
                return Compile(paren.Expression);
            case JmesPathSimpleExpression wrapper:
                return Compile(wrapper.Expression);
            case JmesPathFunctionExpression function:
                return new FunctionNode(function.Name, [.. function.Arguments.Select(Compile)]);
            case JmesPathCompoundExpression compound:
                var left = Compile((JmesPathExpression)s_left.GetValue(compound)!);
                var right = Compile((JmesPathExpression)s_right.GetValue(compound)!);
                return compound switch
                {
                    JmesPathPipeExpression => new PipeNode(left, right),
                    JmesPathOrExpression => new OrNode(left, right),
                    JmesPathAndExpression => new AndNode(left, right),
                    JmesPathEqualOperator => new CompareNode(left, right, "=="),
                    JmesPathNotEqualOperator => new CompareNode(left, right, "!="),
                    JmesPathGreaterThanOrEqualOperator => new CompareNode(left, right, ">="),
                    JmesPathGreaterThanOperator => new CompareNode(left, right, ">"),
                    JmesPathLessThanOrEqualOperator => new CompareNode(left, right, "<="),
                    JmesPathLessThanOperator => new CompareNode(left, right, "<"),
                    JmesPathUnaryMinusExpression => new ArithmeticNode(new LiteralNode(0L), right, "-"),
                    JmesPathUnaryPlusExpression => new ArithmeticNode(new LiteralNode(0L), right, "+"),
                    JmesPathAdditionExpression => new ArithmeticNode(left, right, "+"),
                    JmesPathSubtractionExpression => new ArithmeticNode(left, right, "-"),
                    JmesPathMultiplicationExpression => new ArithmeticNode(left, right, "*"),
                    JmesPathIntegerDivisionExpression => new ArithmeticNode(left, right, "//"),
                    JmesPathDivisionExpression => new ArithmeticNode(left, right, "/"),
                    JmesPathModuloExpression => new ArithmeticNode(left, right, "%"),
                    _ => new ChainNode(left, right),
                };
            default:
                // Wrappers such as the parser's root expression hold exactly one inner expression.
                var inner = e.GetType().GetFields(BindingFlags.NonPublic | BindingFlags.Instance)
                    .Where(f => typeof(JmesPathExpression).IsAssignableFrom(f.FieldType))
                    .Select(f => f.GetValue(e)).OfType<JmesPathExpression>().ToList();
                if (inner.Count == 1)
                {
                    return Compile(inner[0]);
                }

                throw new PolicyEvaluationException($"JMESPath construct '{e}' ({e.GetType().Name}) is not supported");
        }
    }

    public static object? FromToken(JToken? token) => token?.Type switch
    {
        null or JTokenType.Null or JTokenType.Undefined => null,
        JTokenType.Boolean => token.Value<bool>(),
        JTokenType.Integer => token.Value<long>(),
        JTokenType.Float => token.Value<double>(),
        JTokenType.String => token.Value<string>(),
        JTokenType.Array => token.Select(FromToken).ToList(),
        JTokenType.Object => ((JObject)token).Properties().ToDictionary(p => p.Name, p => FromToken(p.Value)),
        _ => token.ToString(),
    };
}
