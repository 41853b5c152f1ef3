using System.Collections.Concurrent;

namespace Backprop.Runtime;

/// <summary>One registered op and who registered it.</summary>
/// <param name="Op">The op.</param>
/// <param name="Plugin">Name of the plugin that registered it.</param>
/// <param name="Priority">Override priority (0 for ordinary registrations).</param>
public sealed record OpRegistration(IDifferentiableOp Op, string Plugin, int Priority);

/// <summary>Two plugins claimed the same (domain, name, since-version) without an override.</summary>
public sealed class DuplicateOpException(string message) : BackpropException(message);

/// <summary>Ops keyed by (domain, name, since-version). Thread-safe for lookups; registration happens at load time.</summary>
public sealed class OpRegistry
{
    private readonly Dictionary<(string Domain, string Name), SortedList<int, OpRegistration>> _ops = [];
    private readonly ConcurrentDictionary<(string, string), IDifferentiableOp> _latest = new();
    private readonly ConcurrentDictionary<string, IDifferentiableOp> _latestDefault = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Every registration, ordered by domain, name and version.</summary>
    public IReadOnlyList<OpRegistration> All
    {
        get
        {
            lock (_gate)
            {
                return _ops.OrderBy(p => p.Key.Domain, StringComparer.Ordinal).ThenBy(p => p.Key.Name, StringComparer.Ordinal)
                    .SelectMany(p => p.Value.Values).ToList();
            }
        }
    }

    /// <summary>The registration that holds <paramref name="schema"/>'s key, if any.</summary>
    public OpRegistration? Find(OpSchema schema)
    {
        lock (_gate)
        {
            return _ops.TryGetValue((schema.Domain, schema.Name), out var versions) && versions.TryGetValue(schema.SinceVersion, out var r) ? r : null;
        }
    }

    /// <summary>The op with the highest since-version for (domain, name).</summary>
    public IDifferentiableOp Resolve(string domain, string name)
    {
        if (domain.Length == 0 && _latestDefault.TryGetValue(name, out var op)) return op;
        if (_latest.TryGetValue((domain, name), out op)) return op;
        lock (_gate)
        {
            if (!_ops.TryGetValue((domain, name), out var versions))
            {
                var known = _ops.Keys.Where(k => k.Domain == domain).Select(k => k.Name).Order(StringComparer.Ordinal).Take(60);
                throw new OpNotFoundException(
                    $"No loaded plugin registers op '{(domain.Length == 0 ? name : domain + "::" + name)}'. " +
                    $"Known ops in domain '{domain}': {string.Join(", ", known)}. Is the plugin that provides it in the plugins folder?");
            }
            op = versions.Values[^1].Op;
            _latest[(domain, name)] = op;
            if (domain.Length == 0) _latestDefault[name] = op;
            return op;
        }
    }

    /// <summary>The op serving opset <paramref name="opset"/> of its domain: the highest since-version not above it.</summary>
    public IDifferentiableOp? Resolve(string domain, string name, int opset)
    {
        lock (_gate)
        {
            if (!_ops.TryGetValue((domain, name), out var versions)) return null;
            OpRegistration? best = null;
            foreach (var (v, r) in versions)
            {
                if (v <= opset) best = r;
            }
            return best?.Op;
        }
    }

    internal void Add(OpRegistration registration)
    {
        var schema = registration.Op.Schema;
        lock (_gate)
        {
            if (!_ops.TryGetValue((schema.Domain, schema.Name), out var versions))
                _ops[(schema.Domain, schema.Name)] = versions = [];
            if (versions.TryGetValue(schema.SinceVersion, out var existing))
            {
                if (registration.Priority == 0 && existing.Priority == 0)
                    throw new DuplicateOpException(
                        $"Op '{schema.QualifiedName}' (since version {schema.SinceVersion}) is registered by both plugin '{existing.Plugin}' and plugin '{registration.Plugin}'. " +
                        "Remove one, or register the replacement with IOpRegistry.OverrideOp and a priority.");
                if (registration.Priority <= existing.Priority) return;
            }
            versions[schema.SinceVersion] = registration;
            _latest.TryRemove((schema.Domain, schema.Name), out _);
            _latestDefault.TryRemove(schema.Name, out _);
        }
    }

    /// <summary>Removes every op registered by <paramref name="plugin"/>.</summary>
    internal void RemovePlugin(string plugin)
    {
        lock (_gate)
        {
            foreach (var (key, versions) in _ops.ToList())
            {
                foreach (var v in versions.Where(p => p.Value.Plugin == plugin).Select(p => p.Key).ToList()) versions.Remove(v);
                if (versions.Count == 0) _ops.Remove(key);
            }
            _latest.Clear();
            _latestDefault.Clear();
        }
    }

    internal void CheckFree(OpRegistration registration)
    {
        var existing = Find(registration.Op.Schema);
        if (existing is not null && existing.Priority == 0 && registration.Priority == 0)
        {
            var s = registration.Op.Schema;
            throw new DuplicateOpException(
                $"Op '{s.QualifiedName}' (since version {s.SinceVersion}) is registered by both plugin '{existing.Plugin}' and plugin '{registration.Plugin}'. " +
                "Remove one, or register the replacement with IOpRegistry.OverrideOp and a priority.");
        }
    }
}
