using Backprop.Onnx.Proto;

namespace Backprop.Onnx;

/// <summary>Options for <see cref="OnnxModel.Load(string, OnnxLoadOptions?)"/>.</summary>
public sealed record OnnxLoadOptions
{
    /// <summary>Resource caps checked before allocating.</summary>
    public ImportLimits Limits { get; init; } = ImportLimits.Default;

    /// <summary>The importer table (the default covers Backprop's supported ONNX ops).</summary>
    public ImporterTable Importers { get; init; } = ImporterTable.Default;
}

/// <summary>A graph input or output: name, element type and dimensions (null where symbolic).</summary>
/// <param name="Name">Value name.</param>
/// <param name="ElementType">ONNX element type name.</param>
/// <param name="Dims">Dimensions; null entries are symbolic (e.g. batch).</param>
public sealed record ValueInfo(string Name, string ElementType, long?[]? Dims)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {ElementType}[{(Dims is null ? "?" : string.Join(", ", Dims.Select(d => d?.ToString() ?? "?")))}]";
}

/// <summary>
/// An imported ONNX model: validated, its initializers turned into parameters, every node bound to an importer.
/// <see cref="Run(IReadOnlyDictionary{string, Tensor})"/> evaluates it with Backprop ops, so the result can be differentiated.
/// </summary>
public sealed class OnnxModel
{
    private readonly GraphPlan _plan;

    private OnnxModel(ModelProto proto, GraphPlan plan, Dictionary<string, Tensor> parameters, IReadOnlyDictionary<string, int> opsets)
    {
        Proto = proto;
        _plan = plan;
        Parameters = parameters;
        Opsets = opsets;
        Inputs = proto.Graph.Input.Where(i => !parameters.ContainsKey(i.Name)).Select(Describe).ToList();
        Outputs = proto.Graph.Output.Select(Describe).ToList();
    }

    /// <summary>The bound graph (node order for pictures and tools).</summary>
    internal GraphPlan Plan => _plan;

    /// <summary>The parsed model.</summary>
    public ModelProto Proto { get; }

    /// <summary>Opset version per domain ("" is ai.onnx).</summary>
    public IReadOnlyDictionary<string, int> Opsets { get; }

    /// <summary>Graph inputs that are not initializers.</summary>
    public IReadOnlyList<ValueInfo> Inputs { get; }

    /// <summary>Graph outputs.</summary>
    public IReadOnlyList<ValueInfo> Outputs { get; }

    /// <summary>Initializers by name; floating-point ones require grad (trainable) unless frozen.</summary>
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }

    /// <summary>Training mode: BatchNormalization uses batch statistics and Dropout drops.</summary>
    public bool Training { get; set; }

    /// <summary>Loads, validates and binds a model file. Every unsupported node is reported at once.</summary>
    public static OnnxModel Load(string path, OnnxLoadOptions? options = null)
    {
        options ??= new OnnxLoadOptions();
        var proto = ModelReader.Read(path, options.Limits);
        return FromProto(proto, options, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Validates and binds a parsed model; <paramref name="baseDirectory"/> resolves external data.</summary>
    public static OnnxModel FromProto(ModelProto proto, OnnxLoadOptions? options = null, string? baseDirectory = null)
    {
        options ??= new OnnxLoadOptions();
        var opsets = new Dictionary<string, int>();
        foreach (var o in proto.OpsetImport)
        {
            var domain = o.Domain == "ai.onnx" ? "" : o.Domain;
            opsets[domain] = (int)Math.Clamp(o.Version, 0, int.MaxValue);
        }
        if (!opsets.ContainsKey("")) opsets[""] = 1;
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long bytes = 0;
        foreach (var init in proto.Graph.Initializer)
        {
            if (string.IsNullOrEmpty(init.Name)) throw new OnnxImportException("an initializer has no name.");
            if (parameters.ContainsKey(init.Name)) throw new OnnxImportException("is defined twice as an initializer.", tensor: init.Name);
            var t = TensorConverter.ToTensor(init, options.Limits, baseDirectory);
            bytes += (long)t.Size * (t.DType is DType.Float64 or DType.Int64 ? 8 : t.DType == DType.Bool ? 1 : 4);
            if (bytes > options.Limits.MaxInitializerBytes)
                throw new OnnxImportException($"initializers exceed {options.Limits.MaxInitializerBytes} bytes; raise ImportLimits.MaxInitializerBytes if intended.", tensor: init.Name);
            if (t.DType.IsFloatingPoint()) t.RequiresGrad = true;
            parameters[init.Name] = t;
        }
        var plan = GraphPlan.Build(proto.Graph, opsets, options, parameters.Keys, depth: 0);
        return new OnnxModel(proto, plan, parameters, opsets);
    }

    /// <summary>
    /// Keeps BatchNormalization on its running statistics (neither using nor updating batch statistics) even in training
    /// mode — the usual choice when fine-tuning with small batches or data unlike the pretraining data.
    /// </summary>
    public bool FreezeBatchNormStatistics { get; set; }

    /// <summary>Random source for Dropout masks in training mode (seed it, or checkpoint its state, for reproducible runs).</summary>
    public Random Random { get; set; } = Random.Shared;

    /// <summary>Evaluates the graph on <paramref name="inputs"/> (by name) and returns every graph output by name.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => Run(inputs, null);

    /// <summary>
    /// Evaluates only what <paramref name="values"/> (graph outputs or any intermediate value names) need, and returns them by
    /// name; null means every graph output.
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyCollection<string>? values)
    {
        foreach (var v in values ?? [])
        {
            if (!Parameters.ContainsKey(v) && !Inputs.Any(i => i.Name == v) && !_plan.Produces(v))
                throw new OnnxImportException($"'{v}' is not a value of this model (no node, input or initializer has that name).");
        }
        foreach (var info in Inputs)
        {
            if (!inputs.ContainsKey(info.Name))
                throw new OnnxImportException($"graph input '{info.Name}' was not given (expected {info}).");
        }
        foreach (var name in inputs.Keys)
        {
            if (!Inputs.Any(i => i.Name == name) && !Parameters.ContainsKey(name))
                throw new OnnxImportException($"'{name}' is not an input of this model; its inputs are: {string.Join(", ", Inputs.Select(i => i.Name))}.");
        }
        var env = new Dictionary<string, Tensor>(Parameters, StringComparer.Ordinal);
        foreach (var (k, v) in inputs) env[k] = v;
        return _plan.Run(env, Training, Random, values, !FreezeBatchNormStatistics, _hooks);
    }

    private readonly ModelHooks _hooks = new();

    /// <summary>
    /// Calls <paramref name="hook"/> after each node runs, with its input and output tensors (to record activations, dead
    /// ReLUs, shapes). Dispose the result to unsubscribe.
    /// </summary>
    public IDisposable OnForward(Action<NodeActivity> hook) => _hooks.AddForward(hook);

    /// <summary>
    /// Calls <paramref name="hook"/> during each backward pass through a later <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>
    /// with the gradient of the loss with respect to every value — graph inputs that require grad, initializers and node outputs —
    /// and, for values read by several nodes, each reader's share. Runs started while subscribed are watched; dispose the
    /// result to unsubscribe.
    /// </summary>
    public IDisposable OnBackward(Action<GradientFlow> hook) => _hooks.AddBackward(hook);

    private static ValueInfo Describe(ValueInfoProto v)
    {
        var t = v.Type?.TensorType;
        var type = t is null ? "?" : ((TensorProto.Types.DataType)t.ElemType).ToString().ToLowerInvariant();
        var dims = t?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null).ToArray();
        return new ValueInfo(v.Name, type, dims);
    }
}
