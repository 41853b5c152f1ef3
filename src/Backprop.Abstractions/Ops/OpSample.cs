namespace Backprop;

/// <summary>A sample invocation used by the conformance kit to check an op's derivatives.</summary>
/// <param name="Description">Says what the sample covers (shown on failure).</param>
/// <param name="Inputs">Inputs; floating-point ones are differentiated (float64 recommended).</param>
/// <param name="Attributes">Attributes of the invocation.</param>
public sealed record OpSample(string Description, Tensor[] Inputs, OpAttributes Attributes)
{
    /// <summary>A sample without attributes.</summary>
    public OpSample(string description, params Tensor[] inputs) : this(description, inputs, OpAttributes.Empty) { }
}

/// <summary>An op that declares sample inputs for the conformance kit.</summary>
public interface IOpSamples
{
    /// <summary>Sample invocations, generated from <paramref name="rng"/>.</summary>
    IEnumerable<OpSample> Samples(Random rng);
}
