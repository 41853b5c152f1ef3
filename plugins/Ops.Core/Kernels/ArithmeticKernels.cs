using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Plugins.Core;

internal readonly struct AddK<T> : IBinaryKernel<AddK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a + b;
    public static void Contiguous(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void ScalarLeft(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(b, a, y);
    public static void ScalarRight(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Add(a, b, y);
}

internal readonly struct SubK<T> : IBinaryKernel<SubK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a - b;
    public static void Contiguous(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void ScalarLeft(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void ScalarRight(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
}

internal readonly struct MulK<T> : IBinaryKernel<MulK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a * b;
    public static void Contiguous(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void ScalarLeft(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(b, a, y);
    public static void ScalarRight(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
}

internal readonly struct DivK<T> : IBinaryKernel<DivK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => a / b;
    public static void Contiguous(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void ScalarLeft(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void ScalarRight(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
}

internal readonly struct PowK<T> : IBinaryKernel<PowK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.Pow(a, b);
}

/// <summary>Elementwise maximum; NaN propagates.</summary>
internal readonly struct MaxK<T> : IBinaryKernel<MaxK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : a >= b ? a : b;
}

/// <summary>Elementwise minimum; NaN propagates.</summary>
internal readonly struct MinK<T> : IBinaryKernel<MinK<T>, T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? T.NaN : a <= b ? a : b;
}

internal readonly struct GreaterK<T> : IBinaryKernel<GreaterK<T>, T, bool> where T : unmanaged, IComparisonOperators<T, T, bool>
{
    public static bool Apply(T a, T b) => a > b;
}

internal readonly struct LessK<T> : IBinaryKernel<LessK<T>, T, bool> where T : unmanaged, IComparisonOperators<T, T, bool>
{
    public static bool Apply(T a, T b) => a < b;
}

internal readonly struct EqualK<T> : IBinaryKernel<EqualK<T>, T, bool> where T : unmanaged, IEquatable<T>
{
    public static bool Apply(T a, T b) => a.Equals(b);
}
