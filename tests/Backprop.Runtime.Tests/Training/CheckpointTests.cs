using Backprop.Training;

namespace Backprop.Runtime.Tests.Training;

/// <summary>Checkpoint files: round trip, damage detection, and atomic replacement when the writer dies mid-write.</summary>
public class CheckpointTests
{
    private static string Temp()
    {
        var dir = Path.Combine(Path.GetTempPath(), "backprop-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static CheckpointData Sample(float value) => new(
        new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray([value, 2, 3, 4, 5, 6], 2, 3),
            ["steps"] = Tensor.FromArray([7L, 8], 2),
            ["d"] = new Tensor(new[] { 0.25 }, Shape.Scalar),
        },
        new Dictionary<string, string> { ["epoch"] = "3", ["random"] = "1,2,3,4" });

    [Fact]
    public void Round_trip_keeps_names_shapes_dtypes_values_and_metadata()
    {
        var path = Path.Combine(Temp(), "c.bpck");
        Checkpoint.Save(path, Sample(1.5f));
        var back = Checkpoint.Load(path);
        Assert.Equal([1.5f, 2, 3, 4, 5, 6], back.Tensors["w"].ToFloatArray());
        Assert.Equal(new Shape(2, 3), back.Tensors["w"].Shape);
        Assert.Equal([7L, 8], back.Tensors["steps"].ToInt64Array());
        Assert.Equal(DType.Float64, back.Tensors["d"].DType);
        Assert.Equal(0.25, back.Tensors["d"].Item());
        Assert.Equal("1,2,3,4", back.Metadata["random"]);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(-1)]
    public void A_damaged_file_is_a_checkpoint_error_naming_it(int at)
    {
        var path = Path.Combine(Temp(), "c.bpck");
        Checkpoint.Save(path, Sample(1));
        var bytes = File.ReadAllBytes(path);
        if (at < 0) bytes = bytes[..(bytes.Length / 2)];
        else bytes[at] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Assert.Contains("c.bpck", e.Message);
    }

    /// <summary>A stream that fails after a number of bytes, as a crash or full disk would.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = (int)Math.Max(0, Math.Min(buffer.Length, failAfter - _written));
            inner.Write(buffer[..room]);
            _written += room;
            if (room < buffer.Length) throw new IOException("simulated crash while writing");
        }
    }

    [Fact]
    public void Interrupting_the_writer_at_any_point_leaves_the_previous_checkpoint_loadable_and_no_partial_file()
    {
        var dir = Temp();
        var path = Path.Combine(dir, "latest.bpck");
        Checkpoint.Save(path, Sample(1));
        var size = new FileInfo(path).Length;
        for (long cut = 0; cut < size; cut += Math.Max(1, size / 37))
        {
            Assert.Throws<IOException>(() => Checkpoint.Save(path, Sample(99), s => new FailingStream(s, cut)));
            Assert.Equal(1f, Checkpoint.Load(path).Tensors["w"].ToFloatArray()[0]);
            Assert.Equal(["latest.bpck"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        Checkpoint.Save(path, Sample(2));
        Assert.Equal(2f, Checkpoint.Load(path).Tensors["w"].ToFloatArray()[0]);
    }
}
