using Backprop.Runtime;

namespace Backprop.Testing;

/// <summary>
/// The conformance kit. For every sample an op declares, it checks in float64 that
/// (1) the VJP matches a finite difference along a random direction, (2) the JVP does too,
/// (3) ⟨u, J·v⟩ from the JVP equals ⟨Jᵀ·u, v⟩ from the VJP, and (4) second derivatives by
/// reverse-over-reverse and forward-over-reverse match finite differences of the first — or, for a
/// once-differentiable op, that asking for them raises <see cref="HigherOrderNotSupportedException"/>.
/// </summary>
public static class OpConformance
{
    /// <summary>Checks every op registered in <paramref name="runtime"/> that declares samples.</summary>
    public static IReadOnlyList<CheckResult> CheckAll(BackpropRuntime runtime, CheckOptions? options = null) =>
        runtime.Ops.All.SelectMany(r => Check(runtime, r.Op, options)).ToList();

    /// <summary>Checks one op on each of its samples (an op without samples yields one failed result saying so).</summary>
    public static IReadOnlyList<CheckResult> Check(BackpropRuntime runtime, IDifferentiableOp op, CheckOptions? options = null)
    {
        options ??= new CheckOptions();
        var name = op.Schema.QualifiedName;
        if (op is not IOpSamples withSamples)
            return [new CheckResult(name, "-", "samples", 0, 0, false, "the op declares no samples (implement IOpSamples)")];
        var results = new List<CheckResult>();
        using (runtime.Activate())
        {
            var rng = new Random(options.Seed);
            foreach (var sample in withSamples.Samples(rng))
            {
                try
                {
                    results.AddRange(new SampleCheck(runtime, op, sample, options, rng).Run());
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    results.Add(new CheckResult(name, sample.Description, "run", 0, 0, false, $"{e.GetType().Name}: {e.Message}"));
                }
            }
        }
        return results;
    }

    /// <summary>Throws with a table of failures if any check failed.</summary>
    public static void AssertAllPassed(IEnumerable<CheckResult> results)
    {
        var failed = results.Where(r => !r.Passed).ToList();
        if (failed.Count > 0)
            throw new ConformanceException($"{failed.Count} conformance check(s) failed:\n" + string.Join("\n", failed.Take(40)));
    }
}

/// <summary>Raised by <see cref="OpConformance.AssertAllPassed"/>.</summary>
public sealed class ConformanceException(string message) : Exception(message);
