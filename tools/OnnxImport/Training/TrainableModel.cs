using System.Text.RegularExpressions;
using Backprop.Onnx.Proto;
using Backprop.Runtime;
using Backprop.Training;

namespace Backprop.Onnx;

/// <summary>A classification head appended to a model: Flatten(<paramref name="On"/>) · Wᵀ + b → <paramref name="OutputName"/>.</summary>
/// <param name="On">The value the head reads (any graph value).</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="WeightName">Initializer name of W [classes, features].</param>
/// <param name="BiasName">Initializer name of b [classes].</param>
/// <param name="OutputName">Name of the logits output.</param>
public sealed record HeadSpec(string On, int Classes, string WeightName, string BiasName, string OutputName);

/// <summary>
/// An imported model prepared for fine-tuning: named trainable parameters, BatchNormalization running statistics as
/// buffers, freezing by name glob, an optional new head, train/eval mode, state for checkpoints, and export back to ONNX
/// in inference form.
/// </summary>
public sealed class TrainableModel
{
    private readonly HashSet<string> _buffers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _frozen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _head = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="model"/>; the running mean and variance of every BatchNormalization become buffers.</summary>
    public TrainableModel(OnnxModel model)
    {
        Model = model;
        foreach (var node in model.Proto.Graph.Node.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx"))
        {
            foreach (var name in node.Input.Skip(3).Take(2))
            {
                if (model.Parameters.TryGetValue(name, out var t))
                {
                    _buffers.Add(name);
                    t.RequiresGrad = false;
                }
            }
        }
    }

    /// <summary>The imported model.</summary>
    public OnnxModel Model { get; }

    /// <summary>The appended head, if any.</summary>
    public HeadSpec? Head { get; private set; }

    /// <summary>Training mode (batch statistics and running-stat updates in BatchNormalization, active Dropout) or evaluation mode.</summary>
    public bool Training
    {
        get => Model.Training;
        set => Model.Training = value;
    }

    /// <summary>Names of the buffers (BatchNormalization running statistics): saved and exported, never trained.</summary>
    public IReadOnlyCollection<string> BufferNames => _buffers;

    /// <summary>The output <see cref="Forward(IReadOnlyDictionary{string, Tensor})"/> returns: the head's, or the model's first.</summary>
    public string OutputName => Head?.OutputName ?? Model.Outputs[0].Name;

    /// <summary>Every floating-point tensor the model owns (initializers and head) by name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> AllTensors => Model.Parameters.Concat(_head);

    /// <summary>Trainable parameters: floating-point initializers and head tensors that are neither buffers nor frozen.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Parameters =>
        AllTensors.Where(p => p.Value.DType.IsFloatingPoint() && !_buffers.Contains(p.Key) && !_frozen.Contains(p.Key));

    /// <summary>True when <paramref name="name"/> is frozen.</summary>
    public bool IsFrozen(string name) => _frozen.Contains(name);

    /// <summary>Freezes every parameter whose name matches <paramref name="glob"/> (* and ?); returns how many. Matching nothing is an error.</summary>
    public int Freeze(string glob)
    {
        var matched = Matching(glob);
        foreach (var (name, t) in matched)
        {
            _frozen.Add(name);
            t.RequiresGrad = false;
            t.Grad = null;
        }
        return matched.Count;
    }

    /// <summary>Unfreezes every frozen parameter whose name matches <paramref name="glob"/>; returns how many.</summary>
    public int Unfreeze(string glob)
    {
        var matched = Matching(glob).Where(p => _frozen.Remove(p.Key)).ToList();
        foreach (var (_, t) in matched) t.RequiresGrad = true;
        return matched.Count;
    }

    /// <summary>
    /// Appends a new linear head for <paramref name="classes"/> classes reading value <paramref name="on"/> (default: the
    /// model's first output), initialised as PyTorch's nn.Linear (uniform ±1/√fan_in). The head's logits become the model's
    /// output; the features' size is found by running <paramref name="sample"/> through the model once.
    /// </summary>
    public HeadSpec AddHead(int classes, IReadOnlyDictionary<string, Tensor> sample, Random random, string? on = null, string prefix = "head")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (Head is not null) throw new InvalidOperationException("the model already has a head.");
        on ??= Model.Outputs[0].Name;
        int features;
        using (GradMode.NoGrad())
        {
            var wasTraining = Training;
            Training = false;
            var value = Model.Run(sample, [on])[on];
            Training = wasTraining;
            if (!value.DType.IsFloatingPoint() || value.Rank < 1) throw new OnnxImportException($"the head cannot read '{on}': it is {value.DType} {value.Shape}.");
            features = value.Size / Math.Max(1, value.Shape[0]);
        }
        var spec = new HeadSpec(on, classes, prefix + ".weight", prefix + ".bias", prefix + ".logits");
        foreach (var n in new[] { spec.WeightName, spec.BiasName, spec.OutputName })
        {
            if (Model.Parameters.ContainsKey(n) || Model.Proto.Graph.Node.Any(x => x.Output.Contains(n)) || Model.Inputs.Any(i => i.Name == n))
                throw new OnnxImportException($"the name '{n}' is taken in the model; choose another head prefix.");
        }
        var bound = 1 / Math.Sqrt(features);
        _head[spec.WeightName] = Tensor.Uniform(new Shape(classes, features), random, -bound, bound);
        _head[spec.BiasName] = Tensor.Uniform(new Shape(classes), random, -bound, bound);
        foreach (var t in _head.Values) t.RequiresGrad = true;
        Head = spec;
        return spec;
    }

    /// <summary>
    /// Gradients of the loss with respect to the imported graph's values during each backward pass (see
    /// <see cref="OnnxModel.OnBackward"/>); the head's own tensors are leaves whose <see cref="Tensor.Grad"/> holds theirs.
    /// </summary>
    public IDisposable OnBackward(Action<GradientFlow> hook) => Model.OnBackward(hook);

    /// <summary>Each imported node's inputs and outputs as it runs (see <see cref="OnnxModel.OnForward"/>).</summary>
    public IDisposable OnForward(Action<NodeActivity> hook) => Model.OnForward(hook);

    /// <summary>Runs the model (and head) on <paramref name="inputs"/> and returns <see cref="OutputName"/>.</summary>
    public Tensor Forward(IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (Head is not { } h) return Model.Run(inputs, [OutputName])[OutputName];
        var features = Model.Run(inputs, [h.On])[h.On];
        var flat = Ops.Reshape(features, features.Shape[0], features.Size / Math.Max(1, features.Shape[0]));
        return Ops.Gemm(flat, _head[h.WeightName], _head[h.BiasName], transB: true);
    }

    /// <summary>Runs a single-input model on <paramref name="input"/>.</summary>
    public Tensor Forward(Tensor input) =>
        Model.Inputs.Count == 1 ? Forward(new Dictionary<string, Tensor> { [Model.Inputs[0].Name] = input })
        : throw new OnnxImportException($"the model has {Model.Inputs.Count} inputs; pass them by name.");

    /// <summary>Copies saved tensors into the model (initializers and head); unknown names and shape mismatches are errors.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, string prefix = "")
    {
        var all = AllTensors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var (key, saved) in state.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = key[prefix.Length..];
            if (!all.TryGetValue(name, out var t)) throw new OnnxImportException($"saved tensor '{name}' does not exist in this model (a different model or head?).");
            if (t.Shape != saved.Shape || t.DType != saved.DType)
                throw new OnnxImportException($"saved tensor '{name}' is {saved.DType} {saved.Shape} but the model's is {t.DType} {t.Shape}.");
            t.CopyFrom(saved);
        }
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> as ONNX, atomically: trained values replace the floating-point
    /// initializers, the head (if any) is appended as Flatten + Gemm and becomes the only output. The graph keeps its
    /// inference form (BatchNormalization on the running statistics, Dropout inactive). With <paramref name="dynamicBatch"/>,
    /// the first dimension of inputs and outputs becomes symbolic and intermediate shape annotations are dropped.
    /// </summary>
    public void Export(string path, bool dynamicBatch = false) =>
        AtomicFile.Write(path, stream => Google.Protobuf.MessageExtensions.WriteTo(ToProto(dynamicBatch), stream));

    /// <summary>The model as it would be exported.</summary>
    public ModelProto ToProto(bool dynamicBatch = false)
    {
        var proto = Model.Proto.Clone();
        var graph = proto.Graph;
        for (var i = 0; i < graph.Initializer.Count; i++)
        {
            var init = graph.Initializer[i];
            var type = (TensorProto.Types.DataType)init.DataType;
            if (type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double && Model.Parameters.TryGetValue(init.Name, out var t))
                graph.Initializer[i] = TensorConverter.ToProto(t, init.Name);
        }
        if (Head is { } h)
        {
            var flat = h.OutputName + ".flat";
            graph.Node.Add(new NodeProto { Name = h.OutputName + ".Flatten", OpType = "Flatten", Input = { h.On }, Output = { flat }, Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } } });
            graph.Node.Add(new NodeProto
            {
                Name = h.OutputName + ".Gemm", OpType = "Gemm", Input = { flat, h.WeightName, h.BiasName }, Output = { h.OutputName },
                Attribute = { new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
            });
            foreach (var name in new[] { h.WeightName, h.BiasName })
            {
                graph.Initializer.Add(TensorConverter.ToProto(_head[name], name));
                if (proto.IrVersion < 4) graph.Input.Add(Info(name, _head[name].Shape.ToArray().Select(d => (long?)d)));
            }
            graph.Output.Clear();
            graph.Output.Add(Info(h.OutputName, [Model.Outputs[0].Dims is { Length: > 0 } d ? d[0] : null, h.Classes]));
        }
        if (dynamicBatch)
        {
            graph.ValueInfo.Clear();
            foreach (var v in graph.Input.Where(v => !Model.Parameters.ContainsKey(v.Name)).Concat(graph.Output))
            {
                if (v.Type?.TensorType?.Shape is { Dim.Count: > 0 } s) s.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
            }
        }
        return proto;
    }

    private static ValueInfoProto Info(string name, IEnumerable<long?> dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }

    private List<KeyValuePair<string, Tensor>> Matching(string glob)
    {
        var regex = new Regex("^" + Regex.Escape(glob).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant);
        var matched = AllTensors.Where(p => p.Value.DType.IsFloatingPoint() && !_buffers.Contains(p.Key) && regex.IsMatch(p.Key)).ToList();
        if (matched.Count == 0) throw new OnnxImportException($"no trainable parameter matches '{glob}'.");
        return matched;
    }
}
