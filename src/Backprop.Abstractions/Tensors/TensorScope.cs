namespace Backprop;

/// <summary>
/// A region of work — typically one training step: forward, loss, backward, optimizer update — whose large tensors are
/// lent from a <see cref="BufferPool"/> and all given back when it ends, so the next step reuses warm memory instead of
/// asking the GC for hundreds of megabytes. Open it with <see cref="BufferPool.Scope"/> on the thread that runs the step:
/// <code>
/// using (pool.Scope())
/// {
///     var loss = Losses.CrossEntropy(model.Forward(x), y);
///     loss.Backward();
///     optimizer.Step();
///     lossValue = loss.Item();          // read what you need before the scope ends
/// }
/// </code>
/// When it ends, every tensor created inside it over a pooled buffer (and every view of one) is released: reading it raises
/// <see cref="ReleasedTensorException"/>, never stale values. Tensors meant to outlive the step are exempted with
/// <see cref="Tensor.Keep"/>; the runtime keeps what it stores for later by itself (gradients assigned to
/// <see cref="Tensor.Grad"/>, optimizer state). Buffers under <see cref="BufferPool.MinElements"/> elements and buffers
/// created on other threads are ordinary GC memory. Scopes and leases nest; the innermost lends.
/// </summary>
public sealed class TensorScope : IDisposable, IBufferLender
{
    private readonly BufferPool _pool;
    private readonly IBufferLender? _outer;
    private readonly List<BufferLoan> _loans = [];
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal TensorScope(BufferPool pool)
    {
        _pool = pool;
        _outer = Lending.Push(this);
    }

    /// <summary>Buffers lent so far in this scope.</summary>
    public int Lent => _loans.Count;

    BufferPool IBufferLender.Pool => _pool;

    void IBufferLender.Record(BufferLoan loan) => _loans.Add(loan);

    /// <summary>Gives every lent buffer not kept back to the pool and stops lending on this thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _thread) throw new InvalidOperationException("A tensor scope must be disposed on the thread that opened it.");
        Lending.Pop(this, _outer, "tensor scope");
        _disposed = true;
        foreach (var loan in _loans)
        {
            if (loan.Kept) continue;
            loan.Returned = true;
            _pool.Put(loan.Array);
        }
        _loans.Clear();
    }
}
