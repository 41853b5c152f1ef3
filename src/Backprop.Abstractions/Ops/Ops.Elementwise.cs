namespace Backprop;

public static partial class Ops
{
    /// <summary>a + b with broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary("Add", a, b);

    /// <summary>a − b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary("Sub", a, b);

    /// <summary>a · b elementwise with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary("Mul", a, b);

    /// <summary>a / b elementwise with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary("Div", a, b);

    /// <summary>a ^ b elementwise with broadcasting.</summary>
    public static Tensor Pow(Tensor a, Tensor b) => Binary("Pow", a, b);

    /// <summary>Elementwise maximum with broadcasting.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary("Max", a, b);

    /// <summary>Elementwise minimum with broadcasting.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary("Min", a, b);

    /// <summary>−x.</summary>
    public static Tensor Neg(Tensor x) => Unary("Neg", x);

    /// <summary>eˣ.</summary>
    public static Tensor Exp(Tensor x) => Unary("Exp", x);

    /// <summary>Natural logarithm.</summary>
    public static Tensor Log(Tensor x) => Unary("Log", x);

    /// <summary>Square root.</summary>
    public static Tensor Sqrt(Tensor x) => Unary("Sqrt", x);

    /// <summary>1 / x.</summary>
    public static Tensor Reciprocal(Tensor x) => Unary("Reciprocal", x);

    /// <summary>|x|.</summary>
    public static Tensor Abs(Tensor x) => Unary("Abs", x);

    /// <summary>Sine.</summary>
    public static Tensor Sin(Tensor x) => Unary("Sin", x);

    /// <summary>Cosine.</summary>
    public static Tensor Cos(Tensor x) => Unary("Cos", x);

    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => Unary("Tanh", x);

    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) => Unary("Sigmoid", x);

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => Unary("Relu", x);

    /// <summary>x for x &gt; 0, alpha·x otherwise.</summary>
    public static Tensor LeakyRelu(Tensor x, double alpha = 0.01) => Call("LeakyRelu", OpAttributes.Of(("alpha", alpha)), x);

    /// <summary>x for x &gt; 0, alpha·(eˣ − 1) otherwise.</summary>
    public static Tensor Elu(Tensor x, double alpha = 1.0) => Call("Elu", OpAttributes.Of(("alpha", alpha)), x);

    /// <summary>log(1 + eˣ), computed stably.</summary>
    public static Tensor Softplus(Tensor x) => Unary("Softplus", x);

    /// <summary>GELU; <paramref name="approximate"/> is "none" (erf form) or "tanh".</summary>
    public static Tensor Gelu(Tensor x, string approximate = "none") => Call("Gelu", OpAttributes.Of(("approximate", approximate)), x);

    /// <summary>Gauss error function.</summary>
    public static Tensor Erf(Tensor x) => Unary("Erf", x);

    /// <summary>−1, 0 or 1 (derivative zero).</summary>
    public static Tensor Sign(Tensor x) => Unary("Sign", x);

    /// <summary>a &gt; b as bool, with broadcasting (not differentiable).</summary>
    public static Tensor Greater(Tensor a, Tensor b) => Binary("Greater", a, b);

    /// <summary>a &lt; b as bool, with broadcasting (not differentiable).</summary>
    public static Tensor Less(Tensor a, Tensor b) => Binary("Less", a, b);

    /// <summary>a == b as bool, with broadcasting (not differentiable).</summary>
    public static Tensor Equal(Tensor a, Tensor b) => Binary("Equal", a, b);

    /// <summary>Picks <paramref name="a"/> where <paramref name="condition"/> holds, else <paramref name="b"/> (three-way broadcasting).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => Call("Where", condition, a, b);

    /// <summary>Clamps into [min, max].</summary>
    public static Tensor Clip(Tensor x, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        Call("Clip", OpAttributes.Of(("min", min), ("max", max)), x);

    /// <summary>Converts to <paramref name="dtype"/> (differentiable between floating types).</summary>
    public static Tensor Cast(Tensor x, DType dtype) =>
        x.DType == dtype ? x : Call("Cast", OpAttributes.Of(("to", (long)dtype)), x);

    /// <summary>x².</summary>
    public static Tensor Square(Tensor x) => Mul(x, x);

    /// <summary>A scalar of <paramref name="like"/>'s dtype.</summary>
    public static Tensor ScalarLike(Tensor like, double value) => Tensor.Scalar(value, like.DType);
}
