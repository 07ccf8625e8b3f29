using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Manifests;

public static partial class ManifestParser
{
    /// <summary>
    /// How deep a document may nest (mappings and sequences, the root counting as one): the apply serializes objects
    /// with System.Text.Json's default depth limit of 64, so a deeper object could not be sent.
    /// </summary>
    internal const int MaxDepth = 64;

    /// <summary>
    /// How many nodes the aliases of one file may add, counting every node of each repeated copy: about as many as an
    /// 8 MB manifest holds (7–9 bytes a node). Kubernetes manifests need a few small aliases at most; this stops alias
    /// bombs (nested aliases that expand to billions of nodes) before they exhaust memory.
    /// </summary>
    internal const int MaxAliasedNodes = 1_000_000;

    /// <summary>
    /// Converts one file's YAML nodes to JSON, guarded by an <see cref="AliasGuard"/>.
    /// </summary>
    private sealed class Converter(string source)
    {
        private readonly AliasGuard _aliases = new(source);

        public JsonNode? ToJson(YamlNode node) => ToJson(node, depth: 0);

        private JsonNode? ToJson(YamlNode node, int depth)
        {
            var repeatsHere = _aliases.Enter(node);
            var json = node switch
            {
                YamlMappingNode mapping => ToObject(mapping, Nested(mapping, depth)),
                YamlSequenceNode sequence => ToArray(sequence, Nested(sequence, depth)),
                YamlScalarNode scalar => ToScalar(scalar),
                _ => null,
            };

            _aliases.Exit(node, repeatsHere);
            return json;
        }

        private int Nested(YamlNode node, int depth)
        {
            if (depth == MaxDepth)
            {
                throw TooDeep(source, node.Start.Line);
            }

            return depth + 1;
        }

        private JsonObject ToObject(YamlMappingNode mapping, int depth)
        {
            var obj = new JsonObject();
            foreach (var (key, value) in mapping.Children)
            {
                // GuardedParser admits scalar keys only.
                var name = ((YamlScalarNode)key).Value ?? string.Empty;
                if (name == "<<" && value is YamlMappingNode merge)
                {
                    foreach (var (mk, mv) in (JsonObject)ToJson(merge, depth - 1)!)
                    {
                        obj.TryAdd(mk, mv?.DeepClone());
                    }

                    continue;
                }

                obj[name] = ToJson(value, depth);
            }

            return obj;
        }

        private JsonArray ToArray(YamlSequenceNode sequence, int depth)
        {
            var array = new JsonArray();
            foreach (var item in sequence.Children)
            {
                array.Add(ToJson(item, depth));
            }

            return array;
        }
    }

    /// <summary>
    /// Checks the events YamlDotNet loads its node graph from, before it builds (and hashes) anything: mappings and
    /// sequences nest at most <see cref="MaxDepth"/> deep (its loader recurses once per level), and mapping keys are
    /// scalars or aliases of scalars, as Kubernetes requires (the loader hashes keys, and hashing a collection that
    /// contains its own alias never ends).
    /// </summary>
    internal sealed class GuardedParser(IParser parser, string source) : IParser
    {
        private readonly Stack<Frame> _open = new();
        private readonly Dictionary<string, string> _anchoredCollections = new(StringComparer.Ordinal);

        public ParsingEvent? Current => parser.Current;

        public bool MoveNext()
        {
            if (!parser.MoveNext())
            {
                return false;
            }

            switch (parser.Current)
            {
                case DocumentStart:
                    _anchoredCollections.Clear();
                    break;
                case MappingStart or SequenceStart:
                    var start = (NodeEvent)parser.Current;
                    var kind = start is MappingStart ? "mapping" : "sequence";
                    CheckNotKey(start, kind);
                    if (!start.Anchor.IsEmpty)
                    {
                        _anchoredCollections[start.Anchor.Value] = kind;
                    }

                    if (_open.Count == MaxDepth)
                    {
                        throw TooDeep(source, start.Start.Line);
                    }

                    _open.Push(new Frame(IsMapping: start is MappingStart, AtKey: true));
                    break;
                case MappingEnd or SequenceEnd:
                    _open.Pop();
                    Completed();
                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty)
                    {
                        _anchoredCollections.Remove(scalar.Anchor.Value);
                    }

                    Completed();
                    break;
                case AnchorAlias alias:
                    if (_anchoredCollections.TryGetValue(alias.Value.Value, out var target))
                    {
                        CheckNotKey(alias, $"alias of a {target}");
                    }

                    Completed();
                    break;
            }

            return true;
        }

        private void CheckNotKey(ParsingEvent node, string kind)
        {
            if (_open.TryPeek(out var parent) && parent is { IsMapping: true, AtKey: true })
            {
                throw new ManifestException($"{source}:{node.Start.Line}: a mapping key is a {kind}; Kubernetes objects have string keys only.");
            }
        }

        /// <summary>A node ended: in a mapping, a key is followed by its value and a value by the next key.</summary>
        private void Completed()
        {
            if (_open.TryPeek(out var parent) && parent.IsMapping)
            {
                _open.Pop();
                _open.Push(parent with { AtKey = !parent.AtKey });
            }
        }

        private readonly record struct Frame(bool IsMapping, bool AtKey);
    }

    private static ManifestException TooDeep(string source, long line) => new(
        $"{source}:{line}: mappings and sequences nest more than {MaxDepth} levels deep here (aliases included); " +
        "an object this deep cannot be applied: flatten the structure.");
}

/// <summary>
/// Walks a YAML node graph safely. YamlDotNet resolves an alias to the anchored node itself, so the tree it loads is a
/// graph: an anchor can contain its own alias (a cycle) and nested aliases can repeat a node exponentially many times.
/// Only anchored nodes can be reached twice, so only they are tracked: a converter calls <see cref="Enter"/> before a
/// node's children and <see cref="Exit"/> after them.
/// </summary>
internal sealed class AliasGuard(string source)
{
    private readonly HashSet<YamlNode> _seen = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<YamlNode> _open = new(ReferenceEqualityComparer.Instance);
    private YamlNode? _repeating;
    private int _aliasedNodes;

    /// <summary>Starts <paramref name="node"/>; returns whether it starts a repetition (pass it to <see cref="Exit"/>).</summary>
    /// <exception cref="ManifestException">The node contains its own alias, or the aliases expand beyond <see cref="ManifestParser.MaxAliasedNodes"/>.</exception>
    public bool Enter(YamlNode node)
    {
        var anchored = !node.Anchor.IsEmpty;
        var repeatsHere = anchored && !_seen.Add(node) && _repeating is null;
        if (repeatsHere)
        {
            _repeating = node;
        }

        if (_repeating is not null && ++_aliasedNodes > ManifestParser.MaxAliasedNodes)
        {
            throw new ManifestException(
                $"{source}:{_repeating.Start.Line}: the aliases of &{_repeating.Anchor} and of the anchors inside it expand to more than " +
                $"{ManifestParser.MaxAliasedNodes:N0} nodes; Kubernetes manifests do not need aliases this large: write the values out or nest fewer aliases.");
        }

        if (anchored && !_open.Add(node))
        {
            throw new ManifestException(
                $"{source}:{node.Start.Line}: the node anchored &{node.Anchor} contains its own alias *{node.Anchor}, which would repeat " +
                "without end; replace the alias with the values it stands for.");
        }

        return repeatsHere;
    }

    /// <summary>Ends <paramref name="node"/>, started by <see cref="Enter"/>.</summary>
    public void Exit(YamlNode node, bool repeatsHere)
    {
        if (!node.Anchor.IsEmpty)
        {
            _open.Remove(node);
        }

        if (repeatsHere)
        {
            _repeating = null;
        }
    }
}
