using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Plugins.Core;

/// <summary>
/// Register-blocked GEMM micro-kernels: C[MR×NR] += alpha · A[MR×kc] · Bpanel[kc×NR]. B is packed k-major in rows
/// of NR = two vectors; element (r, k) of A is read at a[k·aStep + r·rowStride], so A may be a packed panel
/// (aStep = MR, rowStride = 1) or rows of a row-major matrix used in place (aStep = 1, rowStride = lda).
/// </summary>
internal static unsafe class MicroKernel
{
    public const int MR = 8;

    /// <summary>a·b + c in one rounding for float and double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    /// <summary>MR = 8 rows × NR = 2·Vector512 columns. Writes the full tile into <paramref name="c"/> (row stride ldc), adding.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run512<T>(int kc, T* a, nint aStep, nint rowStride, T* b, T* c, int ldc, T alpha) where T : unmanaged
    {
        T* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        T* a4 = a3 + rowStride, a5 = a4 + rowStride, a6 = a5 + rowStride, a7 = a6 + rowStride;
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (var k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var x = Vector512.Create(*a0); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(*a1); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(*a2); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(*a3); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(*a4); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(*a5); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            x = Vector512.Create(*a6); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
            x = Vector512.Create(*a7); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
            a0 += aStep; a1 += aStep; a2 += aStep; a3 += aStep; a4 += aStep; a5 += aStep; a6 += aStep; a7 += aStep;
            b += 2 * w;
        }
        var va = Vector512.Create(alpha);
        Store(c, w, va, c00, c01); c += ldc;
        Store(c, w, va, c10, c11); c += ldc;
        Store(c, w, va, c20, c21); c += ldc;
        Store(c, w, va, c30, c31); c += ldc;
        Store(c, w, va, c40, c41); c += ldc;
        Store(c, w, va, c50, c51); c += ldc;
        Store(c, w, va, c60, c61); c += ldc;
        Store(c, w, va, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, int w, Vector512<T> alpha, Vector512<T> lo, Vector512<T> hi) where T : unmanaged
    {
        Fma(alpha, lo, Vector512.Load(c)).Store(c);
        Fma(alpha, hi, Vector512.Load(c + w)).Store(c + w);
    }

    /// <summary>MR = 8 rows × NR = 2·Vector256 columns, for CPUs without AVX-512.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run256<T>(int kc, T* a, nint aStep, nint rowStride, T* b, T* c, int ldc, T alpha) where T : unmanaged
    {
        T* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        T* a4 = a3 + rowStride, a5 = a4 + rowStride, a6 = a5 + rowStride, a7 = a6 + rowStride;
        var w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (var k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var x = Vector256.Create(*a0); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(*a1); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(*a2); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(*a3); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(*a4); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(*a5); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            x = Vector256.Create(*a6); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
            x = Vector256.Create(*a7); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
            a0 += aStep; a1 += aStep; a2 += aStep; a3 += aStep; a4 += aStep; a5 += aStep; a6 += aStep; a7 += aStep;
            b += 2 * w;
        }
        var va = Vector256.Create(alpha);
        Store(c, w, va, c00, c01); c += ldc;
        Store(c, w, va, c10, c11); c += ldc;
        Store(c, w, va, c20, c21); c += ldc;
        Store(c, w, va, c30, c31); c += ldc;
        Store(c, w, va, c40, c41); c += ldc;
        Store(c, w, va, c50, c51); c += ldc;
        Store(c, w, va, c60, c61); c += ldc;
        Store(c, w, va, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* c, int w, Vector256<T> alpha, Vector256<T> lo, Vector256<T> hi) where T : unmanaged
    {
        Fma(alpha, lo, Vector256.Load(c)).Store(c);
        Fma(alpha, hi, Vector256.Load(c + w)).Store(c + w);
    }

    /// <summary>
    /// Implicit-GEMM tile of a direct convolution: C[MR × NR] = A[MR × kc]·B with A's rows read in place (element (r, k) at
    /// a[r·rowStride + k]) and row k of B the NR contiguous values at b + offsets[k] — one filter tap over a run of output
    /// pixels, read straight from the (padded, phase-split) input. NR is two vectors, or one when <paramref name="narrow"/>.
    /// Overwrites C (row stride ldc).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunTaps512<T>(int kc, T* a, nint rowStride, T* b, int* offsets, T* c, int ldc, bool narrow) where T : unmanaged
    {
        T* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        T* a4 = a3 + rowStride, a5 = a4 + rowStride, a6 = a5 + rowStride, a7 = a6 + rowStride;
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        if (narrow)
        {
            for (var k = 0; k < kc; k++)
            {
                var b0 = Vector512.Load(b + offsets[k]);
                c00 = Fma(Vector512.Create(a0[k]), b0, c00);
                c10 = Fma(Vector512.Create(a1[k]), b0, c10);
                c20 = Fma(Vector512.Create(a2[k]), b0, c20);
                c30 = Fma(Vector512.Create(a3[k]), b0, c30);
                c40 = Fma(Vector512.Create(a4[k]), b0, c40);
                c50 = Fma(Vector512.Create(a5[k]), b0, c50);
                c60 = Fma(Vector512.Create(a6[k]), b0, c60);
                c70 = Fma(Vector512.Create(a7[k]), b0, c70);
            }
            c00.Store(c); c10.Store(c + ldc); c20.Store(c + 2 * ldc); c30.Store(c + 3 * ldc);
            c40.Store(c + 4 * ldc); c50.Store(c + 5 * ldc); c60.Store(c + 6 * ldc); c70.Store(c + 7 * ldc);
            return;
        }
        for (var k = 0; k < kc; k++)
        {
            var row = b + offsets[k];
            var b0 = Vector512.Load(row);
            var b1 = Vector512.Load(row + w);
            var x = Vector512.Create(a0[k]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(a1[k]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(a2[k]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(a3[k]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(a4[k]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(a5[k]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            x = Vector512.Create(a6[k]); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
            x = Vector512.Create(a7[k]); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
        }
        c00.Store(c); c01.Store(c + w); c += ldc;
        c10.Store(c); c11.Store(c + w); c += ldc;
        c20.Store(c); c21.Store(c + w); c += ldc;
        c30.Store(c); c31.Store(c + w); c += ldc;
        c40.Store(c); c41.Store(c + w); c += ldc;
        c50.Store(c); c51.Store(c + w); c += ldc;
        c60.Store(c); c61.Store(c + w); c += ldc;
        c70.Store(c); c71.Store(c + w);
    }
}
