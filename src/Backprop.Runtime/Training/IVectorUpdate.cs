using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// An optimizer's update written once over SIMD vectors of the parameter's element type <typeparamref name="T"/>: a parameter
/// vector, its gradient and up to two state vectors (unused ones are scratch). Implemented by a struct, so
/// <see cref="Optimizer.ForEachVector{T, TUpdate}"/> compiles it into its loop (no call per element). Elements never
/// interact, so the result does not depend on how the tensor is split across vectors or cores.
/// </summary>
public interface IVectorUpdate<T> where T : unmanaged
{
    /// <summary>Updates one vector of elements in place.</summary>
    void Apply(ref Vector<T> parameter, Vector<T> grad, ref Vector<T> state1, ref Vector<T> state2);
}
