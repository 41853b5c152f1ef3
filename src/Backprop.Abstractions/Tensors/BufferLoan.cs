namespace Backprop;

/// <summary>
/// One lending of a pooled buffer: the tensors built over it (the first one and its views) share this record, so when the
/// lender takes the buffer back every one of them knows, and reading any of them raises <see cref="ReleasedTensorException"/>
/// instead of seeing whatever the buffer's next borrower wrote.
/// </summary>
internal sealed class BufferLoan(Array array, BufferPool pool)
{
    public Array Array { get; } = array;

    public BufferPool Pool { get; } = pool;

    /// <summary>Set by <see cref="Tensor.Keep"/>: the buffer stays with its tensors for good.</summary>
    public bool Kept { get; set; }

    /// <summary>
    /// Set when the buffer outlived its scope only because a tensor over it was stored in <see cref="Tensor.Grad"/>: the
    /// optimizer's ZeroGrad may then give it back (<see cref="Tensor.ReleaseGrad"/>). An explicit Keep clears it.
    /// </summary>
    public bool HeldByGrad { get; set; }

    /// <summary>Set when the buffer went back to its pool.</summary>
    public bool Returned { get; set; }
}

/// <summary>Something that lends tensor buffers on one thread (a <see cref="BufferLease"/> or a <see cref="TensorScope"/>).</summary>
internal interface IBufferLender
{
    /// <summary>The pool the buffers come from.</summary>
    BufferPool Pool { get; }

    /// <summary>Takes note of a buffer just lent, to give it back later.</summary>
    void Record(BufferLoan loan);
}

/// <summary>The innermost lender active on the calling thread.</summary>
internal static class Lending
{
    [ThreadStatic] private static IBufferLender? t_current;

    /// <summary>Makes <paramref name="lender"/> current and returns the one it replaces.</summary>
    public static IBufferLender? Push(IBufferLender lender)
    {
        var outer = t_current;
        t_current = lender;
        return outer;
    }

    /// <summary>Ends <paramref name="lender"/>, which must be the innermost, and restores <paramref name="outer"/>.</summary>
    public static void Pop(IBufferLender lender, IBufferLender? outer, string what)
    {
        if (!ReferenceEquals(t_current, lender))
            throw new InvalidOperationException($"A {what} must be disposed before the leases and scopes opened inside it.");
        t_current = outer;
    }

    /// <summary>
    /// A tensor of <paramref name="shape"/> over a buffer from the current lender's pool (zeroed when <paramref name="clear"/>),
    /// or over a fresh GC array when nothing lends on this thread or the tensor is under <see cref="BufferPool.MinElements"/>.
    /// </summary>
    public static Tensor Create(Shape shape, DType dtype, bool clear)
    {
        if (t_current is not { } lender || shape.Size < BufferPool.MinElements) return Tensor.Unpooled(shape, dtype, clear);
        var loan = new BufferLoan(Rent(lender.Pool, dtype, shape.Size, clear), lender.Pool);
        lender.Record(loan);
        return new Tensor(loan, shape);
    }

    /// <summary>An array of <paramref name="length"/> from <paramref name="pool"/> if it has one, else a new one.</summary>
    private static Array Rent(BufferPool pool, DType dtype, int length, bool clear)
    {
        var array = dtype switch
        {
            DType.Float32 => pool.Take<float>(length) ?? (clear ? null : GC.AllocateUninitializedArray<float>(length)),
            DType.Float64 => pool.Take<double>(length) ?? (clear ? null : GC.AllocateUninitializedArray<double>(length)),
            DType.Int64 => (Array?)pool.Take<long>(length) ?? (clear ? null : GC.AllocateUninitializedArray<long>(length)),
            _ => pool.Take<bool>(length),
        };
        if (array is null) return Array.CreateInstance(dtype.ClrType(), length);
        if (clear) Array.Clear(array);
        return array;
    }
}
