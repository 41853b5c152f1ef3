using System.Runtime.InteropServices;

namespace Backprop.Plugins.Blas;

/// <summary>
/// MKL entry points, bound at run time through <see cref="NativeLibrary"/> and unmanaged function pointers so that
/// a missing library is a message, not a crash. The 32-bit integer (LP64) interface is pinned before any other call.
/// </summary>
internal sealed unsafe class NativeMethods
{
    public const int RowMajor = 101;
    public const int NoTrans = 111;
    public const int Trans = 112;
    private const int InterfaceLp64 = 0;

    /// <summary>Library names tried in order after BACKPROP_BLAS_LIB: Debian's libmkl-rt, then oneAPI's.</summary>
    public static readonly string[] Candidates = ["libmkl_rt.so", "libmkl_rt.so.2", "libmkl_rt.so.1"];

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;

    private NativeMethods(nint handle, string path)
    {
        Path = path;
        var setInterface = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(handle, "MKL_Set_Interface_Layer");
        setInterface(InterfaceLp64);
        var setThreading = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(handle, "MKL_Set_Threading_Layer");
        Threading = ChooseThreading();
        setThreading(Threading.Code);
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(handle, "cblas_sgemm");
        _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)NativeLibrary.GetExport(handle, "cblas_dgemm");
        var setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(handle, "MKL_Set_Num_Threads");
        var threads = int.TryParse(Environment.GetEnvironmentVariable("BACKPROP_GEMM_THREADS"), out var t) && t > 0 ? t : Environment.ProcessorCount;
        setThreads(threads);
        Threads = threads;
        Reproducible = SetReproducible(handle);
        if (NativeLibrary.TryGetExport(handle, "MKL_Get_Version_String", out var versionFn))
        {
            var buffer = stackalloc byte[256];
            ((delegate* unmanaged<byte*, int, void>)versionFn)(buffer, 256);
            Version = Marshal.PtrToStringUTF8((nint)buffer)?.Trim() ?? "unknown";
        }
    }

    public string Path { get; }

    public string Version { get; } = "unknown";

    public int Threads { get; }

    /// <summary>MKL's conditional-numerical-reproducibility mode, or why it is off.</summary>
    public string Reproducible { get; } = "off";

    /// <summary>
    /// MKL's GEMM may round differently from call to call on the same data (its blocking follows buffer alignment), which
    /// breaks bit-identical resume. Strict CNR (mkl_cbwr_set(AUTO | STRICT)) makes results independent of alignment, at a
    /// small cost; BACKPROP_MKL_CNR=off opts out.
    /// </summary>
    private static string SetReproducible(nint handle)
    {
        const int auto = 2, strict = 0x10000;
        if (string.Equals(Environment.GetEnvironmentVariable("BACKPROP_MKL_CNR"), "off", StringComparison.OrdinalIgnoreCase)) return "off (BACKPROP_MKL_CNR=off)";
        if (!NativeLibrary.TryGetExport(handle, "MKL_CBWR_Set", out var fn) && !NativeLibrary.TryGetExport(handle, "mkl_cbwr_set", out fn)) return "off (this MKL has no mkl_cbwr_set)";
        var status = ((delegate* unmanaged<int, int>)fn)(auto | strict);
        if (status == 0) return "strict (AUTO)";
        status = ((delegate* unmanaged<int, int>)fn)(auto);
        return status == 0 ? "AUTO (strict mode not supported)" : $"off (mkl_cbwr_set returned {status})";
    }

    public (int Code, string Name) Threading { get; }

    /// <summary>Loads MKL, or returns null with the reason.</summary>
    public static NativeMethods? TryLoad(out string reason)
    {
        var overridePath = Environment.GetEnvironmentVariable("BACKPROP_BLAS_LIB");
        var tried = new List<string>();
        foreach (var name in string.IsNullOrWhiteSpace(overridePath) ? Candidates : [overridePath])
        {
            tried.Add(name);
            if (!NativeLibrary.TryLoad(name, typeof(NativeMethods).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.UseDllDirectoryForDependencies, out var handle)
                && !NativeLibrary.TryLoad(name, out handle))
                continue;
            try
            {
                reason = "";
                return new NativeMethods(handle, name);
            }
            catch (EntryPointNotFoundException e)
            {
                reason = $"{name} loaded but lacks an MKL entry point ({e.Message})";
                return null;
            }
        }
        reason = $"Intel MKL not found (tried {string.Join(", ", tried)}); install Debian's libmkl-rt or set BACKPROP_BLAS_LIB";
        return null;
    }

    /// <summary>GNU OpenMP when libgomp is present (Debian's MKL ships no Intel OpenMP), else sequential; BACKPROP_MKL_THREADING overrides.</summary>
    private static (int, string) ChooseThreading()
    {
        var wanted = Environment.GetEnvironmentVariable("BACKPROP_MKL_THREADING")?.ToLowerInvariant();
        return wanted switch
        {
            "intel" => (0, "intel"),
            "sequential" => (1, "sequential"),
            "gnu" => LoadGlobal("libgomp.so.1") ? (3, "gnu") : (1, "sequential"),
            _ => LoadGlobal("libgomp.so.1") ? (3, "gnu") : (1, "sequential"),
        };
    }

    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    /// <summary>
    /// MKL's GNU threading layer calls libgomp without linking it, so libgomp must be loaded with RTLD_GLOBAL
    /// (NativeLibrary loads privately); otherwise the first threaded call dies on an undefined omp_* symbol.
    /// </summary>
    private static bool LoadGlobal(string library)
    {
        try
        {
            // Idle OpenMP workers must sleep, not spin: the managed kernels run on the same cores between MKL calls.
            // Set in the native environment (where libgomp reads it) unless the user chose otherwise.
            SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
            return DlOpen(library, RtldNow | RtldGlobal) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    public void Sgemm(bool ta, bool tb, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        _sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public void Dgemm(bool ta, bool tb, int m, int n, int k, double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc) =>
        _dgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
