namespace Backprop.Tests;

/// <summary>The pool lends only inside a lease and takes a buffer back only when its last holder releases it.</summary>
public class BufferPoolTests
{
    private const int Large = BufferPool.MinElements * 2;

    [Fact]
    public void A_released_buffer_is_lent_again_and_an_unreleased_one_never()
    {
        var pool = new BufferPool();
        using (var lease = pool.Lease())
        {
            var a = Tensor.Empty(new Shape(Large), DType.Float32);
            var b = Tensor.Empty(new Shape(Large), DType.Float32);
            lease.Hold(a);
            lease.Hold(b);
            lease.Release(a);
            var c = Tensor.Empty(new Shape(Large), DType.Float32);
            Assert.True(c.SharesBufferWith(a));
            Assert.False(c.SharesBufferWith(b));
        }
        Assert.Equal(0, pool.Bytes);
    }

    [Fact]
    public void A_buffer_shared_by_views_returns_only_after_every_view_is_released()
    {
        var pool = new BufferPool();
        using var lease = pool.Lease();
        var t = Tensor.Empty(new Shape(Large), DType.Float32);
        var view = t.ViewAs(new Shape(2, Large / 2));
        lease.Hold(t);
        lease.Hold(view);
        lease.Release(t);
        Assert.Equal(0, pool.Bytes);
        Assert.False(Tensor.Empty(new Shape(Large), DType.Float32).SharesBufferWith(t));
        lease.Release(view);
        Assert.Equal((long)Large * sizeof(float), pool.Bytes);
    }

    [Fact]
    public void Buffers_the_lease_did_not_lend_small_ones_and_other_threads_are_left_alone()
    {
        var pool = new BufferPool();
        var outside = Tensor.Empty(new Shape(Large), DType.Float32);
        using var lease = pool.Lease();
        lease.Hold(outside);
        lease.Release(outside);
        var small = Tensor.Empty(new Shape(16), DType.Float32);
        lease.Hold(small);
        lease.Release(small);
        Assert.Equal(0, pool.Bytes);
        Tensor? fromWorker = null;
        var worker = new Thread(() => fromWorker = Tensor.Empty(new Shape(Large), DType.Float32));
        worker.Start();
        worker.Join();
        var lent = Tensor.Empty(new Shape(Large), DType.Float32);
        lease.Hold(lent);
        lease.Hold(fromWorker!);
        lease.Release(fromWorker!);
        Assert.Equal(0, pool.Bytes);
        lease.Release(lent);
        Assert.Equal((long)Large * sizeof(float), pool.Bytes);
    }

    [Fact]
    public void Zeros_from_a_reused_dirty_buffer_are_zero_and_disposal_stops_lending()
    {
        var pool = new BufferPool();
        Tensor reused;
        using (var lease = pool.Lease())
        {
            var dirty = Tensor.Full(new Shape(Large), 7);
            lease.Hold(dirty);
            lease.Release(dirty);
            var zeros = Tensor.Zeros(new Shape(Large));
            reused = zeros;
            Assert.True(zeros.SharesBufferWith(dirty));
            Assert.All(zeros.ToFloatArray(), v => Assert.Equal(0f, v));
            lease.Hold(zeros);
            lease.Release(zeros);
        }
        Assert.False(Tensor.Zeros(new Shape(Large)).SharesBufferWith(reused));
    }
}
