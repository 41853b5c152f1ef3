namespace Backprop;

public static partial class Ops
{
    /// <summary>Batched, broadcasting matrix product of op(a)·op(b); 1-D operands follow NumPy.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        if (a.Rank >= 2 && b.Rank >= 2) return MatMulCore(a, b, transA, transB);
        if (a.Rank == 0 || b.Rank == 0) throw new ShapeException($"MatMul needs at least 1-D operands, got {a.Shape} and {b.Shape}.");
        var a2 = a.Rank == 1 ? Unsqueeze(a, 0) : a;
        var b2 = b.Rank == 1 ? Unsqueeze(b, 1) : b;
        var y = MatMulCore(a2, b2, transA && a.Rank >= 2, transB && b.Rank >= 2);
        if (a.Rank == 1) y = Squeeze(y, -2);
        if (b.Rank == 1) y = Squeeze(y, -1);
        return y;
    }

    /// <summary>alpha·op(A)·op(B) + beta·C (ONNX Gemm; 2-D).</summary>
    public static Tensor Gemm(Tensor a, Tensor b, Tensor? c = null, double alpha = 1, double beta = 1, bool transA = false, bool transB = false)
    {
        var attrs = OpAttributes.Of(("alpha", alpha), ("beta", beta), ("transA", transA ? 1 : 0), ("transB", transB ? 1 : 0));
        return c is null ? Call("Gemm", attrs, a, b) : Call("Gemm", attrs, a, b, c);
    }

    /// <summary>Softmax along <paramref name="axis"/>.</summary>
    public static Tensor Softmax(Tensor x, int axis = -1) => Call("Softmax", OpAttributes.Of(("axis", axis)), x);

    /// <summary>Log-softmax along <paramref name="axis"/>.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => Call("LogSoftmax", OpAttributes.Of(("axis", axis)), x);

    /// <summary>Mean squared error between <paramref name="prediction"/> and <paramref name="target"/>.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "MseLoss", [prediction, target], OpAttributes.Empty)[0];

    /// <summary>Mean negative log-likelihood of int64 class <paramref name="target"/> [N] under log-probabilities [N, C].</summary>
    public static Tensor NllLoss(Tensor logProbabilities, Tensor target) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "NllLoss", [logProbabilities, target], OpAttributes.Empty)[0];

    /// <summary>Mean cross-entropy of int64 class <paramref name="target"/> [N] given raw <paramref name="logits"/> [N, C]; fused and stable.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "CrossEntropyLoss", [logits, target], OpAttributes.Empty)[0];

    /// <summary>Per-channel affine map x·scale[c] + shift[c] for x [N, C, …] (channels on axis 1); fused.</summary>
    public static Tensor ChannelAffine(Tensor x, Tensor scale, Tensor shift) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "ChannelAffine", [x, scale, shift], OpAttributes.Empty)[0];

    /// <summary>
    /// act(x ⋆ w · scale[c] + shift[c] + residual) in one pass: a convolution (attributes of ONNX Conv in
    /// <paramref name="convolution"/>) with a per-channel affine map, an optional residual of the output's shape and an
    /// optional ReLU — inference batch normalisation and a residual block's add fused into the convolution.
    /// </summary>
    public static Tensor ConvAffine(Tensor x, Tensor w, Tensor scale, Tensor shift, Tensor? residual, bool relu, OpAttributes convolution) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "ConvAffine", residual is null ? [x, w, scale, shift] : [x, w, scale, shift, residual],
            convolution.With("relu", relu ? 1L : 0L))[0];

    /// <summary>
    /// Layer normalisation over axes [<paramref name="axis"/>, rank): (x − μ)/√(σ² + ε)·γ + β with γ, β broadcasting over
    /// those axes; one fused pass per row when nothing is recorded.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, int axis = -1, double epsilon = 1e-5) =>
        TensorRuntime.Current.Invoke(BackpropDomain, "LayerNorm", [x, gamma, beta], OpAttributes.Of(("axis", axis), ("epsilon", epsilon)))[0];

    /// <summary>Per-channel batch mean and inverse standard deviation (σ² + ε)^−½ (population variance) of x [N, C, …]; fused.</summary>
    public static (Tensor Mean, Tensor InvStd) ChannelMoments(Tensor x, double epsilon = 1e-5)
    {
        var r = TensorRuntime.Current.Invoke(BackpropDomain, "ChannelMoments", [x], OpAttributes.Of(("epsilon", epsilon)));
        return (r[0], r[1]);
    }

    /// <summary>
    /// Batch normalisation with batch statistics of x [N, C, …] (channels on axis 1): γ[c]·(x − μ[c])·s[c] + β[c], with the
    /// batch mean μ and inverse standard deviation s = (σ² + ε)^−½ (population variance) also returned; fused, and its
    /// input gradient formed in one pass.
    /// </summary>
    public static (Tensor Y, Tensor Mean, Tensor InvStd) BatchNormTraining(Tensor x, Tensor gamma, Tensor beta, double epsilon = 1e-5)
    {
        var r = TensorRuntime.Current.Invoke(BackpropDomain, "BatchNormTraining", [x, gamma, beta], OpAttributes.Of(("epsilon", epsilon)));
        return (r[0], r[1], r[2]);
    }

    private static Tensor MatMulCore(Tensor a, Tensor b, bool transA, bool transB) =>
        transA || transB
            ? Call("MatMul", OpAttributes.Of(("transA", transA ? 1 : 0), ("transB", transB ? 1 : 0)), a, b)
            : Call("MatMul", a, b);
}
