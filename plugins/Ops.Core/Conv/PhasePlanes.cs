namespace Backprop.Plugins.Core;

/// <summary>
/// The layout the direct convolutions (<see cref="DirectConv"/>, <see cref="FlatConv"/>) read their taps from: each sample
/// copied once, zero-padded and phase-split — padded element (i, j) of channel c goes to phase (i mod R, j mod SW) at
/// (i / R, j / SW) of a plane Hq × Wq, with R row phases (1, or the vertical stride) — so that one filter tap over a run
/// of outputs is a contiguous vector at a fixed offset. Also the split of their work between the cores.
/// </summary>
internal static unsafe class PhasePlanes
{
    /// <summary>Multiply-adds from which the work is split between cores.</summary>
    private const long SplitWork = 1 << 18;

    /// <summary>One core's share [u0, u1) of the work units, with pinned pointers to the input, filters, output and tap offsets.</summary>
    public delegate void Share<T>(T* x, T* w, T* y, int* taps, int u0, int u1) where T : unmanaged;

    /// <summary>Offset of tap (c, kh, kw), in Kc order, from the start of a sample's planes.</summary>
    public static int[] Taps(ConvGeometry g, int rowPhases, int hq, int wq)
    {
        var taps = new int[g.Kc];
        for (var c = 0; c < g.C; c++)
        for (var kh = 0; kh < g.KH; kh++)
        for (var kw = 0; kw < g.KW; kw++)
            taps[(c * g.KH + kh) * g.KW + kw] = (((c * rowPhases + kh % rowPhases) * g.SW + kw % g.SW) * hq + kh / rowPhases) * wq + kw / g.SW;
        return taps;
    }

    /// <summary>Copies one sample into its planes (padding and slack zero).</summary>
    public static void Fill<T>(ConvGeometry g, int rowPhases, int hq, int wq, ReadOnlySpan<T> sample, Span<T> dst) where T : unmanaged
    {
        dst.Clear();
        for (var c = 0; c < g.C; c++)
        for (var ih = 0; ih < g.H; ih++)
        {
            var src = sample.Slice((c * g.H + ih) * g.W, g.W);
            var (rowPhase, row) = ((ih + g.PH) % rowPhases, (ih + g.PH) / rowPhases);
            for (var phase = 0; phase < g.SW; phase++)
            {
                // Input columns iw with (iw + PW) mod SW = phase, every SW-th from the first.
                var first = ((phase - g.PW) % g.SW + g.SW) % g.SW;
                if (first >= g.W) continue;
                var count = (g.W - first + g.SW - 1) / g.SW;
                var plane = (c * rowPhases + rowPhase) * g.SW + phase;
                var to = dst.Slice((plane * hq + row) * wq + (first + g.PW) / g.SW, count);
                EveryNth.Gather(g.SW, src[first..], to);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="share"/> over work units [0, <paramref name="units"/>): inline when the convolution is small,
    /// else one contiguous share per core, the same share on every call (<see cref="KernelThreads.ForEachThread"/>).
    /// </summary>
    public static void Run<T>(ConvGeometry g, Tensor x, Tensor w, Tensor y, int[] taps, int units, Share<T> share) where T : unmanaged
    {
        var parts = (long)g.M * g.Kc * g.N * g.P >= SplitWork ? Math.Min(KernelThreads.Threads, units) : 1;
        fixed (T* px = x.Span<T>(), pw = w.Span<T>(), py = y.Span<T>())
        fixed (int* pt = taps)
        {
            if (parts == 1)
            {
                share(px, pw, py, pt, 0, units);
                return;
            }
            var (ax, aw, ay, at) = ((nint)px, (nint)pw, (nint)py, (nint)pt);
            KernelThreads.ForEachThread(part =>
            {
                if (part < parts) share((T*)ax, (T*)aw, (T*)ay, (int*)at, (int)((long)units * part / parts), (int)((long)units * (part + 1) / parts));
            });
        }
    }
}
