namespace Backprop.Plugins.Core;

/// <summary>
/// Rows [u0, u1) of a chunk of samples with <paramref name="perSample"/> rows each (row u is row u mod perSample of sample
/// u / perSample), cut at sample boundaries: each piece is (sample, first row, end row, rows before it in the range).
/// A struct enumerator, so kernels iterate it without allocating.
/// </summary>
internal readonly struct RowSpans(int u0, int u1, int perSample)
{
    public Enumerator GetEnumerator() => new(u0, u1, perSample);

    public struct Enumerator(int u0, int u1, int perSample)
    {
        private int _sample = u0 / perSample - 1;

        public (int Sample, int First, int End, int Before) Current { get; private set; }

        public bool MoveNext()
        {
            _sample++;
            var start = _sample * perSample;
            if (start >= u1) return false;
            var first = Math.Max(u0 - start, 0);
            Current = (_sample, first, Math.Min(u1 - start, perSample), start + first - u0);
            return true;
        }
    }
}
