using Backprop.Onnx.Importers;

namespace Backprop.Onnx;

/// <summary>
/// The explicit table of node importers keyed by (domain, op_type, opset range). When adding an importer, add it
/// here. Custom domains are served by adding importers (or by plugin ops through <see cref="PluginOpImporter"/>).
/// </summary>
public sealed class ImporterTable
{
    private readonly Dictionary<(string Domain, string Op), List<INodeImporter>> _table = [];

    /// <summary>Creates a table from importers.</summary>
    public ImporterTable(IEnumerable<INodeImporter> importers)
    {
        foreach (var i in importers) Add(i);
    }

    /// <summary>Backprop's importers for the standard ONNX domain.</summary>
    public static ImporterTable Default { get; } = new(StandardImporters.All());

    /// <summary>Adds an importer (later additions win over earlier ones for overlapping versions).</summary>
    public void Add(INodeImporter importer)
    {
        var key = (importer.Domain, importer.OpType);
        if (!_table.TryGetValue(key, out var list)) _table[key] = list = [];
        list.Insert(0, importer);
    }

    /// <summary>The importer for (domain, op) at <paramref name="opset"/>, or null.</summary>
    public INodeImporter? Find(string domain, string opType, int opset) =>
        _table.TryGetValue((domain, opType), out var list) ? list.FirstOrDefault(i => i.SinceVersion <= opset && opset <= i.UntilVersion) : null;

    /// <summary>The opset ranges supported for (domain, op), for error messages.</summary>
    public string Versions(string domain, string opType) =>
        _table.TryGetValue((domain, opType), out var list)
            ? string.Join(", ", list.OrderBy(i => i.SinceVersion).Select(i => i.UntilVersion == int.MaxValue ? $"{i.SinceVersion}+" : $"{i.SinceVersion}–{i.UntilVersion}"))
            : "";

    /// <summary>Every (domain, op) the table covers.</summary>
    public IEnumerable<(string Domain, string OpType)> Ops => _table.Keys;
}
