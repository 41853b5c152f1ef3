namespace Backprop;

/// <summary>
/// Recycles large tensor buffers across runs whose lifetimes the caller knows, so a repeated forward pass reuses warm
/// memory instead of asking the GC (and the OS) for fresh pages every time. Buffers are lent only through a
/// <see cref="BufferLease"/> (the caller releases tensors one by one) or a <see cref="TensorScope"/> (everything goes back when
/// the scope ends, except tensors it was told to keep): while one is active on a thread, <see cref="Tensor.Empty"/> and
/// <see cref="Tensor.Zeros"/> on that thread take arrays of the exact length from the pool (small ones, under
/// <see cref="MinElements"/>, come from the GC as usual). The pool never guesses from reachability, because a span can
/// outlive every reference to its tensor; a tensor whose buffer went back refuses to be read. Thread-safe.
/// </summary>
public sealed class BufferPool
{
    /// <summary>Arrays shorter than this are never pooled.</summary>
    public const int MinElements = 4096;

    private readonly Dictionary<(Type, int), Stack<Array>> _free = [];
    private readonly Lock _gate = new();
    private long _bytes;

    /// <summary>Most bytes of free buffers kept (default 2 GiB); a buffer returned beyond it is left to the GC.</summary>
    public long MaxBytes { get; init; } = 2L << 30;

    /// <summary>Bytes of free buffers held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate) return _bytes;
        }
    }

    /// <summary>Starts lending on the calling thread until the lease is disposed (leases and scopes nest; the innermost lends).</summary>
    public BufferLease Lease() => new(this);

    /// <summary>
    /// Opens a <see cref="TensorScope"/> on the calling thread: every large buffer created inside it comes from this pool and
    /// goes back when the scope ends (typically one training step: forward, loss, backward, update).
    /// </summary>
    public TensorScope Scope() => new(this);

    internal T[]? Take<T>(int length)
    {
        lock (_gate)
        {
            if (!_free.TryGetValue((typeof(T), length), out var stack) || stack.Count == 0) return null;
            _bytes -= (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            return (T[])stack.Pop();
        }
    }

    internal void Put(Array array)
    {
        var size = (long)Buffer.ByteLength(array);
        lock (_gate)
        {
            if (_bytes + size > MaxBytes) return;
            var key = (array.GetType().GetElementType()!, array.Length);
            if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<Array>();
            stack.Push(array);
            _bytes += size;
        }
    }
}

/// <summary>
/// One run's borrowing from a <see cref="BufferPool"/>: remembers which buffers it lent, counts holders of each
/// (<see cref="Hold"/>, <see cref="Release"/>) and returns a lent buffer to the pool when its last holder lets go; every
/// tensor over a returned buffer then refuses to be read (<see cref="ReleasedTensorException"/>). Tensors that share a buffer
/// (views) count separately, so a buffer returns only when all of them are released. Buffers still held when the lease
/// ends simply stay with their tensors.
/// </summary>
public sealed class BufferLease : IDisposable, IBufferLender
{
    private readonly BufferPool _pool;
    private readonly IBufferLender? _outer;
    private readonly Dictionary<Array, BufferLoan> _lent = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Array, int> _holders = new(ReferenceEqualityComparer.Instance);
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal BufferLease(BufferPool pool)
    {
        _pool = pool;
        _outer = Lending.Push(this);
    }

    BufferPool IBufferLender.Pool => _pool;

    void IBufferLender.Record(BufferLoan loan) => _lent[loan.Array] = loan;

    /// <summary>Counts <paramref name="tensor"/> as one more holder of its buffer.</summary>
    public void Hold(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        _holders[tensor.Buffer] = _holders.GetValueOrDefault(tensor.Buffer) + 1;
    }

    /// <summary>
    /// One holder of <paramref name="tensor"/>'s buffer fewer; when none is left and this lease lent the buffer, it goes back
    /// to the pool (unless a tensor over it was <see cref="Tensor.Keep">kept</see>). The caller promises nothing reads or
    /// writes a span of the tensor afterwards; reading the tensor itself raises <see cref="ReleasedTensorException"/>.
    /// </summary>
    public void Release(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var buffer = tensor.Buffer;
        if (!_holders.TryGetValue(buffer, out var count)) return;
        if (count > 1)
        {
            _holders[buffer] = count - 1;
            return;
        }
        _holders.Remove(buffer);
        if (!_lent.Remove(buffer, out var loan) || loan.Kept) return;
        loan.Returned = true;
        _pool.Put(buffer);
    }

    /// <summary>Stops lending on this thread (the enclosing lease or scope, if any, lends again).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _thread) throw new InvalidOperationException("A buffer lease must be disposed on the thread that took it.");
        Lending.Pop(this, _outer, "buffer lease");
        _disposed = true;
    }
}
