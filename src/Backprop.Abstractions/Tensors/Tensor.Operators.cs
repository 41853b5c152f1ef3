namespace Backprop;

public sealed partial class Tensor
{
    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Div(a, b);

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => Ops.Neg(a);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => Ops.Add(a, Scalar(b, a.DType));

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => Ops.Add(Scalar(a, b.DType), b);

    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => Ops.Sub(a, Scalar(b, a.DType));

    /// <summary>Subtracts from a scalar.</summary>
    public static Tensor operator -(double a, Tensor b) => Ops.Sub(Scalar(a, b.DType), b);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => Ops.Mul(a, Scalar(b, a.DType));

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => Ops.Mul(Scalar(a, b.DType), b);

    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double b) => Ops.Div(a, Scalar(b, a.DType));

    /// <summary>Divides a scalar.</summary>
    public static Tensor operator /(double a, Tensor b) => Ops.Div(Scalar(a, b.DType), b);
}
