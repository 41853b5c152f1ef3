namespace Backprop.Bench;

/// <summary>The GEMM shapes measured on every backend (shared with the TorchSharp project by copy of the names).</summary>
public static class GemmShapes
{
    public static readonly string[] Names =
    [
        "64", "128", "256", "512", "1024", "2048",
        "mlp 128x784*784x512", "mlp dY*W^T", "mlp X^T*dY", "im2col 200704x576*576x64",
    ];

    /// <summary>(transA, transB, m, n, k) of a named shape.</summary>
    public static (bool TA, bool TB, int M, int N, int K) Of(string name) => name switch
    {
        "mlp 128x784*784x512" => (false, false, 128, 512, 784),
        "mlp dY*W^T" => (false, true, 128, 784, 512),
        "mlp X^T*dY" => (true, false, 784, 512, 128),
        "im2col 200704x576*576x64" => (false, true, 200704, 64, 576),
        _ => (false, false, int.Parse(name), int.Parse(name), int.Parse(name)),
    };
}
