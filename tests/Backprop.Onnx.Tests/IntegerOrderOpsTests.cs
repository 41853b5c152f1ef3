using Backprop.Onnx.Proto;
using static Backprop.Onnx.Tests.TestData;

namespace Backprop.Onnx.Tests;

/// <summary>ReduceMax on integer tensors runs in float64: exact up to ±2⁵³, and refused with a clear error beyond.</summary>
public class IntegerOrderOpsTests
{
    private static OnnxModel ReduceMaxModel()
    {
        var g = new GraphProto { Name = "int-max" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Int64, 2, 3));
        g.Output.Add(new ValueInfoProto { Name = "y" });
        g.Node.Add(Node("ReduceMax", ["x"], ["y"], "max", Ints("axes", 1)));
        return OnnxModel.FromProto(Model(g, opset: 13));
    }

    [Fact]
    public void Integer_maxima_are_exact_up_to_two_to_the_53()
    {
        var x = new Tensor(new long[] { 3, -7, (1L << 53) - 1, -(1L << 53), 0, -(1L << 52) - 1 }, new Shape(2, 3));
        var y = ReduceMaxModel().Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal(DType.Int64, y.DType);
        Assert.Equal(new long[] { (1L << 53) - 1, 0 }, y.ToInt64Array());
    }

    [Fact]
    public void Larger_int64_values_are_refused_with_the_node_named()
    {
        var x = new Tensor(new long[] { 1, 2, 3, 4, 5, (1L << 60) + 1 }, new Shape(2, 3));
        var e = Assert.Throws<OnnxImportException>(() => ReduceMaxModel().Run(new Dictionary<string, Tensor> { ["x"] = x }));
        Assert.Contains("2^53", e.Message);
        Assert.Contains("max", e.Message);
    }
}
