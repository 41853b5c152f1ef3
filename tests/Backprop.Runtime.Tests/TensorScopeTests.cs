using Backprop.Training;

namespace Backprop.Tests;

/// <summary>
/// A tensor scope lends every large buffer of a step from the pool and takes all of them back at its end: tensors from an
/// ended scope refuse to be read, kept tensors survive, and a training loop run in scopes computes exactly what it computes
/// on fresh GC memory.
/// </summary>
public class TensorScopeTests
{
    private const int Large = BufferPool.MinElements * 2;

    /// <summary>A large leaf of 0.5s (made outside any scope) that requires grad.</summary>
    private static Tensor HalfLeaf()
    {
        _ = TestEnv.Runtime;
        var t = Tensor.Full(new Shape(Large), 0.5);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void The_next_scope_reuses_the_buffers_of_the_last_and_their_old_tensors_refuse_to_be_read()
    {
        _ = TestEnv.Runtime;
        var pool = new BufferPool();
        Tensor first, view, detached, small;
        using (var scope = pool.Scope())
        {
            first = Ops.Exp(Tensor.Zeros(new Shape(Large)));
            view = first.ViewAs(new Shape(2, Large / 2));
            detached = first.Detach();
            small = Tensor.Ones(new Shape(16));
            Assert.Equal(2, scope.Lent);
            Assert.Equal(1f, view.Span<float>()[Large / 2 - 1], 5);
        }
        Assert.Equal(2L * Large * sizeof(float), pool.Bytes);
        foreach (var t in new[] { first, view, detached })
        {
            Assert.True(t.IsReleased);
            Assert.Throws<ReleasedTensorException>(() => t.Span<float>());
            Assert.Throws<ReleasedTensorException>(() => t.ToFloatArray());
            Assert.Throws<ReleasedTensorException>(() => t.GetAsDouble(0));
            Assert.Throws<ReleasedTensorException>(() => t.Clone());
        }
        Assert.False(small.IsReleased);
        Assert.Equal(1f, small.ToFloatArray()[15]);
        using (pool.Scope())
        {
            var again = Tensor.Zeros(new Shape(Large));
            Assert.True(again.SharesBufferWith(first));
            Assert.All(again.ToFloatArray(), v => Assert.Equal(0f, v));
        }
        Assert.False(Tensor.Zeros(new Shape(Large)).SharesBufferWith(first));
    }

    [Fact]
    public void A_kept_tensor_and_a_gradient_survive_their_scope_and_their_buffers_are_never_lent_again()
    {
        _ = TestEnv.Runtime;
        var pool = new BufferPool();
        var x = HalfLeaf();
        Tensor kept, viewOfKept;
        using (pool.Scope())
        {
            var y = Ops.Exp(x);
            Ops.Sum(y * y).Backward();
            kept = (y * Tensor.Scalar(2)).Keep();
            viewOfKept = kept.ViewAs(new Shape(2, Large / 2));
        }
        var expectedGrad = 2 * Math.Exp(1.0);
        Assert.False(x.Grad!.IsReleased);
        Assert.All(x.Grad.ToFloatArray(), v => Assert.Equal(expectedGrad, v, 5));
        Assert.Equal(2 * Math.Exp(0.5), viewOfKept.Span<float>()[Large - 1], 5);
        using (pool.Scope())
        {
            for (var i = 0; i < 4; i++)
            {
                var t = Tensor.Full(new Shape(Large), -1);
                Assert.False(t.SharesBufferWith(kept) || t.SharesBufferWith(x.Grad));
            }
        }
        Assert.Equal(2 * Math.Exp(0.5), kept.ToFloatArray()[0], 5);
        Assert.All(x.Grad.ToFloatArray(), v => Assert.Equal(expectedGrad, v, 5));
    }

    [Fact]
    public void ZeroGrad_gives_scoped_gradients_back_to_the_pool_but_not_kept_ones_or_ones_made_outside_a_scope()
    {
        _ = TestEnv.Runtime;
        var pool = new BufferPool();
        KeyValuePair<string, Tensor> Param(string name) => new(name, HalfLeaf());
        var (a, b, c) = (Param("a"), Param("b"), Param("c"));
        var sgd = new Sgd([a, b, c], 0.1);
        using (pool.Scope()) Ops.Sum(Ops.Exp(a.Value) + Ops.Exp(b.Value)).Backward();
        Ops.Sum(Ops.Exp(c.Value)).Backward();
        var (ga, gb, gc) = (a.Value.Grad!, b.Value.Grad!.Keep(), c.Value.Grad!);
        var before = pool.Bytes;
        sgd.ZeroGrad();
        Assert.Equal(before + (long)Large * sizeof(float), pool.Bytes);
        Assert.Null(a.Value.Grad);
        Assert.True(ga.IsReleased);
        Assert.Throws<ReleasedTensorException>(() => ga.Span<float>());
        Assert.False(gb.IsReleased || gc.IsReleased);
        using (pool.Scope())
        {
            for (var i = 0; i < 64 && pool.Bytes > 0; i++)
            {
                var next = Tensor.Zeros(new Shape(Large));
                Assert.False(next.SharesBufferWith(gb) || next.SharesBufferWith(gc));
            }
            Assert.Equal(0, pool.Bytes);
        }
        Assert.Equal(Math.Exp(0.5), gb.ToFloatArray()[Large - 1], 5);
        Assert.Equal(Math.Exp(0.5), gc.ToFloatArray()[0], 5);
    }

    [Fact]
    public void Backward_through_a_graph_whose_scope_ended_is_a_released_tensor_error()
    {
        _ = TestEnv.Runtime;
        var pool = new BufferPool();
        var x = HalfLeaf();
        Tensor loss;
        using (pool.Scope()) loss = Ops.Sum(Ops.Exp(x) * Ops.Exp(x));
        var e = Assert.ThrowsAny<BackpropException>(() => loss.Backward());
        Assert.True(e is ReleasedTensorException || e.InnerException is ReleasedTensorException, e.ToString());
    }

    [Fact]
    public void Scopes_and_leases_nest_the_innermost_lends_and_an_outer_one_cannot_end_first()
    {
        var pool = new BufferPool();
        using var outer = pool.Scope();
        var inner = pool.Scope();
        var a = Tensor.Empty(new Shape(Large), DType.Float32);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        Assert.True(a.IsReleased);
        var b = Tensor.Empty(new Shape(Large), DType.Float32);
        Assert.True(b.SharesBufferWith(a));
        Assert.Equal(1, outer.Lent);
        Tensor fromLease;
        using (var lease = pool.Lease())
        {
            fromLease = Tensor.Empty(new Shape(Large), DType.Float64);
            lease.Hold(fromLease);
            lease.Release(fromLease);
        }
        Assert.True(fromLease.IsReleased);
        Assert.Equal(1, outer.Lent);
    }

    /// <summary>An MLP trained for three steps with momentum SGD and AdamW, once on fresh memory and once a scope per step.</summary>
    private static (float[][] Parameters, double[] Losses) Train(BufferPool? pool, bool adam)
    {
        _ = TestEnv.Runtime;
        var rng = new Random(11);
        Tensor Param(params int[] dims)
        {
            var t = Tensor.Normal(new Shape(dims), rng, std: 0.1);
            t.RequiresGrad = true;
            return t;
        }
        var parameters = new Dictionary<string, Tensor> { ["w1"] = Param(128, 96), ["b1"] = Param(96), ["w2"] = Param(96, 10) };
        Optimizer optimizer = adam
            ? new Adam([ParamGroup.Of(parameters)], 0.01, weightDecay: 0.1, decoupled: true)
            : new Sgd(parameters, 0.05, momentum: 0.9, nesterov: true);
        var losses = new double[3];
        for (var step = 0; step < losses.Length; step++)
        {
            var x = Tensor.Normal(new Shape(64, 128), new Random(step));
            var y = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => (long)((i * 7 + step) % 10)).ToArray(), 64);
            using var scope = pool?.Scope();
            optimizer.ZeroGrad();
            var hidden = Ops.Tanh(Ops.MatMul(x, parameters["w1"]) + parameters["b1"]);
            var loss = Losses.CrossEntropy(Ops.MatMul(hidden, parameters["w2"]), y);
            loss.Backward();
            optimizer.Step();
            losses[step] = loss.Item();
            if (scope is not null) Assert.True(scope.Lent >= 4, $"only {scope.Lent} buffers came from the pool");
        }
        return (parameters.Values.Select(p => p.ToFloatArray()).ToArray(), losses);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Training_in_a_scope_per_step_computes_exactly_what_it_computes_on_fresh_memory(bool adam)
    {
        var pool = new BufferPool();
        var (plain, plainLosses) = Train(null, adam);
        var (scoped, scopedLosses) = Train(pool, adam);
        Assert.Equal(plainLosses, scopedLosses);
        for (var i = 0; i < plain.Length; i++) Assert.Equal(plain[i], scoped[i]);
        Assert.True(pool.Bytes > 0, "the scopes gave their buffers back to the pool");
    }

    /// <summary>Managed bytes the calling thread allocates for one step of the MLP of <see cref="Train"/> (after warm-up).</summary>
    private static long StepAllocation(BufferPool? pool)
    {
        _ = TestEnv.Runtime;
        var rng = new Random(3);
        var w = Tensor.Normal(new Shape(256, 128), rng, std: 0.05);
        w.RequiresGrad = true;
        var sgd = new Sgd([new KeyValuePair<string, Tensor>("w", w)], 0.01, momentum: 0.9);
        var x = Tensor.Normal(new Shape(64, 256), rng);
        var y = Tensor.FromArray(Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray(), 64);
        long bytes = 0;
        for (var step = 0; step < 4; step++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            using (pool?.Scope())
            {
                sgd.ZeroGrad();
                Losses.CrossEntropy(Ops.Tanh(Ops.MatMul(x, w)), y).Backward();
                sgd.Step();
            }
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return bytes;
    }

    [Fact]
    public void A_step_in_a_scope_allocates_only_small_objects_from_the_GC()
    {
        // Unpooled, the step allocates its activations, their gradients and w's gradient (128 KB each, ~5 of them).
        var plain = StepAllocation(null);
        var pooled = StepAllocation(new BufferPool());
        Assert.True(plain > 5 * 64 * 128 * sizeof(float), $"unpooled step allocated only {plain} bytes");
        Assert.True(pooled * 10 < plain, $"a pooled step allocated {pooled} bytes, an unpooled one {plain}");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (WeakReference Node, WeakReference Intermediate) RecordAndDifferentiate(Tensor leaf)
    {
        var y = leaf;
        for (var i = 0; i < 50; i++) y = Ops.Tanh(y * leaf + leaf);
        var middle = y;
        for (var i = 0; i < 50; i++) y = Ops.Tanh(y) + leaf;
        Ops.Sum(y).Backward();
        return (new WeakReference(middle.GradFn), new WeakReference(middle));
    }

    [Fact]
    public void After_backward_nothing_keeps_the_recorded_graph_alive()
    {
        _ = TestEnv.Runtime;
        var leaf = Tensor.Full(new Shape(16), 0.1);
        leaf.RequiresGrad = true;
        var (node, intermediate) = RecordAndDifferentiate(leaf);
        Assert.NotNull(leaf.Grad);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(node.IsAlive, "a graph node outlived its backward pass");
        Assert.False(intermediate.IsAlive, "an intermediate tensor outlived its backward pass");
    }
}
