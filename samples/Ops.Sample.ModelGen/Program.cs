using Backprop;
using Backprop.Data;
using Backprop.Onnx;
using Backprop.Onnx.Proto;
using Backprop.Training;
using Google.Protobuf;

// x[N,4] → Gemm → h; ScaledSwish(h, beta 1.5) + LogCosh(h) → Gemm → logits[N,3]; nodes of the custom domain com.example.
var outDir = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "../../../../Ops.Sample/model");
Directory.CreateDirectory(outDir);
var rng = new TrainingRandom(2026);

TensorProto Init(string name, params int[] shape)
{
    var fanIn = shape[0];
    var t = Tensor.Uniform(new Shape(shape), rng, -1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn));
    return TensorConverter.ToProto(t, name);
}

ValueInfoProto Value(string name, params long?[] dims)
{
    var shape = new TensorShapeProto();
    foreach (var d in dims) shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
    return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
}

var graph = new GraphProto { Name = "sample_with_custom_ops" };
graph.Input.Add(Value("x", null, 4));
graph.Output.Add(Value("logits", null, 3));
graph.Initializer.Add(Init("fc1.weight", 4, 16));
graph.Initializer.Add(Init("fc1.bias", 16));
graph.Initializer.Add(Init("fc2.weight", 16, 3));
graph.Initializer.Add(Init("fc2.bias", 3));
graph.Node.Add(new NodeProto { Name = "fc1", OpType = "Gemm", Input = { "x", "fc1.weight", "fc1.bias" }, Output = { "h" } });
graph.Node.Add(new NodeProto
{
    Name = "swish", OpType = "ScaledSwish", Domain = "com.example", Input = { "h" }, Output = { "a" },
    Attribute = { new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 1.5f } },
});
graph.Node.Add(new NodeProto { Name = "logcosh", OpType = "LogCosh", Domain = "com.example", Input = { "h" }, Output = { "c" } });
graph.Node.Add(new NodeProto { Name = "sum", OpType = "Add", Input = { "a", "c" }, Output = { "s" } });
graph.Node.Add(new NodeProto { Name = "fc2", OpType = "Gemm", Input = { "s", "fc2.weight", "fc2.bias" }, Output = { "logits" } });
var model = new ModelProto { IrVersion = 8, ProducerName = "Ops.Sample.ModelGen", Graph = graph };
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.example", Version = 1 });
File.WriteAllBytes(Path.Combine(outDir, "sample.onnx"), model.ToByteArray());

// Three Gaussian blobs in 4-D, 50 samples each.
const int perClass = 50;
var x = new float[3 * perClass * 4];
var y = new long[3 * perClass];
for (var i = 0; i < y.Length; i++)
{
    y[i] = i % 3;
    for (var k = 0; k < 4; k++) x[i * 4 + k] = (float)((k == y[i] ? 2.0 : 0.0) + (k == 3 ? y[i] - 1.0 : 0.0) + rng.NextDouble() - 0.5);
}
Npy.Save(Path.Combine(outDir, "x.npy"), new Tensor(x, new Shape(y.Length, 4)));
Npy.Save(Path.Combine(outDir, "y.npy"), new Tensor(y, new Shape(y.Length)));
Console.WriteLine($"wrote sample.onnx, x.npy, y.npy to {Path.GetFullPath(outDir)}");
