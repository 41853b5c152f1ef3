using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Plugins.Core;

/// <summary>
/// MaxPool with indices for any window, one plane at a time. Per output row, the window's rows inside the image are
/// reduced column-wise with SIMD compares, keeping each column's maximum and the first window row holding it (a NaN beats
/// any number and the first NaN stays). Each output then takes the largest of its columns and, among columns holding it,
/// the one whose row comes first, then the leftmost: the first maximum in row-major order, as ONNX Runtime and PyTorch
/// report it. Outputs whose windows lie inside the row do that a vector of outputs at a time, without branches, on the
/// columns split into stride phases; the edges go one by one. (Scanning each window again for its maximum, then one
/// output at a time with branches, cost ResNet18's stem pool 13 ms per batch of 8 — mispredicted compares on random data.)
/// </summary>
internal static class MaxPoolWindows
{
    /// <summary>Largest stride and window width of the vector path (its phase and tap tables live on the stack).</summary>
    private const int MaxStride = 4, MaxTaps = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Plane<T>(T* src, T* values, long* indices, int plane, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Geometry in locals: the JIT cannot keep fields of a heap object in registers across stores through pointers.
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW, kh = g.KH, kw = g.KW;
        int sh = g.SH, sw = g.SW, ph = g.PH, pw = g.PW, dh = g.DH, dw = g.DW;
        long planeStart = (long)plane * h * w, o = (long)plane * oh * ow;
        var small = w <= 2048;
        Span<T> column = small ? stackalloc T[w] : new T[w];
        Span<T> rowOf = small ? stackalloc T[w] : new T[w]; // window row (exact small integers) of each column's maximum
        // Outputs [xa, xb) have every tap inside the row; the vector path takes them when strides and windows are small.
        var xa = Math.Min(ow, (pw + sw - 1) / sw);
        var reach = w - 1 - (kw - 1) * dw + pw; // sw·x may not pass it
        var xb = reach < 0 ? xa : Math.Max(xa, Math.Min(ow, reach / sw + 1));
        var vector = sw <= MaxStride && kw <= MaxTaps && xb - xa >= Vector<T>.Count;
        var phase = (w + sw - 1) / sw; // length of each stride phase
        Span<T> phases = small && vector ? stackalloc T[2 * sw * phase] : new T[vector ? 2 * sw * phase : 0];
        for (var y = 0; y < oh; y++, o += ow)
        {
            var top = y * sh - ph;
            var (i0, i1) = MaxPool.Inside(top, dh, kh, h);
            if (i0 >= i1)
            {
                for (var x = 0; x < ow; x++) (values[o + x], indices[o + x]) = (T.NegativeInfinity, planeStart);
                continue;
            }
            new ReadOnlySpan<T>(src + planeStart + (long)(top + i0 * dh) * w, w).CopyTo(column);
            rowOf.Fill(T.CreateTruncating(i0));
            for (var i = i0 + 1; i < i1; i++) Fold(column, rowOf, new ReadOnlySpan<T>(src + planeStart + (long)(top + i * dh) * w, w), T.CreateTruncating(i));
            var origin = planeStart + (long)top * w;
            if (!vector)
            {
                Outputs(column, rowOf, values + o, indices + o, 0, ow, g, planeStart, top);
                continue;
            }
            Split(column, phases[..(sw * phase)], sw, phase);
            Split(rowOf, phases[(sw * phase)..], sw, phase);
            var xv = xa + (xb - xa) / Vector<T>.Count * Vector<T>.Count;
            Outputs(column, rowOf, values + o, indices + o, 0, xa, g, planeStart, top);
            Windows(phases, phase, values + o, indices + o, xa, xv, g, origin);
            Outputs(column, rowOf, values + o, indices + o, xv, ow, g, planeStart, top);
        }
    }

    /// <summary>
    /// column = max(column, next) lane by lane, rowOf = <paramref name="row"/> where next won: strictly larger, or NaN over
    /// a number (ties keep the earlier row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fold<T>(Span<T> column, Span<T> rowOf, ReadOnlySpan<T> next, T row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        var rows = new Vector<T>(row);
        for (; i + Vector<T>.Count <= column.Length; i += Vector<T>.Count)
        {
            var (m, v) = (new Vector<T>(column[i..]), new Vector<T>(next[i..]));
            var wins = Vector.GreaterThan(v, m) | Vector.AndNot(~Vector.Equals(v, v), ~Vector.Equals(m, m));
            Vector.ConditionalSelect(wins, v, m).CopyTo(column[i..]);
            Vector.ConditionalSelect(wins, rows, new Vector<T>(rowOf[i..])).CopyTo(rowOf[i..]);
        }
        for (; i < column.Length; i++)
        {
            if (next[i] > column[i] || (T.IsNaN(next[i]) && !T.IsNaN(column[i]))) (column[i], rowOf[i]) = (next[i], row);
        }
    }

    /// <summary>to[p·phase + q] = from[sw·q + p]: the columns split by stride phase, so a tap over consecutive outputs is contiguous.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Split<T>(ReadOnlySpan<T> from, Span<T> to, int sw, int phase) where T : unmanaged
    {
        for (var p = 0; p < sw && p < from.Length; p++) EveryNth.Gather(sw, from[p..], to.Slice(p * phase, (from.Length - p + sw - 1) / sw));
    }

    /// <summary>
    /// Outputs [x0, x1), all taps inside the row, a vector at a time: tap j of output x is column sw·x − pw + j·dw, found
    /// in stride phase (that mod sw) at x + (that div sw). Candidates replace the running best where larger, NaN over a
    /// number, or equal (NaN with NaN) from an earlier row; taps go left to right, so the leftmost wins a full tie.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Windows<T>(ReadOnlySpan<T> phases, int phase, T* values, long* indices, int x0, int x1, ConvGeometry g, long origin)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int sw = g.SW, pw = g.PW, dw = g.DW, kw = g.KW, dh = g.DH, w = g.W;
        var rowsAt = g.SW * phase; // the row phases follow the column phases
        Span<int> start = stackalloc int[MaxTaps];
        for (var j = 0; j < kw; j++)
        {
            var offset = j * dw - pw; // ≥ −sw·x0, so offset + sw·x ≥ 0 for x ≥ x0
            var p = ((offset % sw) + sw) % sw;
            start[j] = p * phase + (offset - p) / sw;
        }
        var rowStep = (long)dh * w;
        for (var x = x0; x < x1; x += Vector<T>.Count)
        {
            var best = new Vector<T>(phases[(start[0] + x)..]);
            var row = new Vector<T>(phases[(rowsAt + start[0] + x)..]);
            var tap = Vector<T>.Zero;
            for (var j = 1; j < kw; j++)
            {
                var v = new Vector<T>(phases[(start[j] + x)..]);
                var r = new Vector<T>(phases[(rowsAt + start[j] + x)..]);
                var (nanV, nanBest) = (~Vector.Equals(v, v), ~Vector.Equals(best, best));
                var larger = Vector.AndNot(Vector.GreaterThan(v, best) | nanV, nanBest);
                var tie = (Vector.Equals(v, best) | (nanV & nanBest)) & Vector.LessThan(r, row);
                var take = larger | tie;
                best = Vector.ConditionalSelect(take, v, best);
                row = Vector.ConditionalSelect(take, r, row);
                tap = Vector.ConditionalSelect(take, new Vector<T>(T.CreateTruncating(j)), tap);
            }
            best.CopyTo(new Span<T>(values + x, Vector<T>.Count));
            Indices(row, tap, indices + x, origin + (long)x * sw - pw, rowStep, sw, dw);
        }
    }

    /// <summary>
    /// indices[l] = start + row[l]·rowStep + l·sw + tap[l]·dw for the lanes of one vector of outputs (row and tap are small
    /// exact integers held as floating-point lanes), converted and summed in vectors, not lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Indices<T>(Vector<T> row, Vector<T> tap, long* indices, long start, long rowStep, int sw, int dw) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            var offsets = Vector.ConvertToInt64(row.As<T, double>()) * rowStep + Vector.ConvertToInt64(tap.As<T, double>()) * dw
                + Vector<long>.Indices * sw + new Vector<long>(start);
            offsets.Store(indices);
            return;
        }
        // Float lanes: twice as many as long lanes, widened in two halves.
        var r = Vector.ConvertToInt32(row.As<T, float>());
        var t = Vector.ConvertToInt32(tap.As<T, float>());
        Vector.Widen(r, out var r0, out var r1);
        Vector.Widen(t * dw + Vector<int>.Indices * sw, out var t0, out var t1);
        var (first, steps) = (new Vector<long>(start), new Vector<long>(rowStep));
        (first + r0 * steps + t0).Store(indices);
        (first + r1 * steps + t1).Store(indices + Vector<long>.Count);
    }

    /// <summary>Outputs [x0, x1) one at a time (edges, clipped windows, wide strides): the same choice as <see cref="Windows{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Outputs<T>(ReadOnlySpan<T> column, ReadOnlySpan<T> rowOf, T* values, long* indices, int x0, int x1, ConvGeometry g,
        long planeStart, int top)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int sw = g.SW, pw = g.PW, dw = g.DW, kw = g.KW, dh = g.DH, w = g.W;
        var origin = planeStart + (long)top * w;
        for (var x = x0; x < x1; x++)
        {
            var iw0 = x * sw - pw;
            var (j0, j1) = MaxPool.Inside(iw0, dw, kw, w);
            if (j0 >= j1)
            {
                (values[x], indices[x]) = (T.NegativeInfinity, planeStart);
                continue;
            }
            var c = iw0 + j0 * dw;
            var (best, row, tap) = (column[c], int.CreateTruncating(rowOf[c]), j0);
            for (var j = j0 + 1; j < j1; j++)
            {
                c = iw0 + j * dw;
                var (v, r) = (column[c], int.CreateTruncating(rowOf[c]));
                if (T.IsNaN(best))
                {
                    if (T.IsNaN(v) && r < row) (row, tap) = (r, j);
                }
                else if (v > best || T.IsNaN(v)) (best, row, tap) = (v, r, j);
                else if (v == best && r < row) (row, tap) = (r, j);
            }
            values[x] = best;
            indices[x] = origin + (long)row * dh * w + iw0 + tap * dw;
        }
    }
}
