namespace Backprop.Testing;

/// <summary>The outcome of one check of one op on one sample.</summary>
/// <param name="Op">Qualified op name.</param>
/// <param name="Sample">The sample's description.</param>
/// <param name="Check">Which check: vjp-vs-fd, jvp-vs-fd, vjp-jvp-identity, second-order-rev-rev, second-order-fwd-rev, once-differentiable-error.</param>
/// <param name="Expected">The reference value (finite difference, or the other mode).</param>
/// <param name="Actual">The value the op's rules gave.</param>
/// <param name="Passed">Whether the two agree within tolerance.</param>
/// <param name="Message">Details on failure.</param>
public sealed record CheckResult(string Op, string Sample, string Check, double Expected, double Actual, bool Passed, string? Message = null)
{
    /// <summary>|Actual − Expected| relative to max(1, |Expected|).</summary>
    public double Error => Math.Abs(Actual - Expected) / Math.Max(1, Math.Abs(Expected));

    /// <inheritdoc />
    public override string ToString() =>
        $"{(Passed ? "ok  " : "FAIL")} {Op} [{Sample}] {Check}: expected {Expected:G10}, got {Actual:G10}{(Message is null ? "" : " — " + Message)}";
}

/// <summary>Tolerances and step of the checks.</summary>
public sealed record CheckOptions
{
    /// <summary>Finite-difference step (float64, 4-point central stencil).</summary>
    public double Step { get; init; } = 1e-4;

    /// <summary>Relative tolerance against finite differences.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>Relative tolerance of the exact VJP/JVP identity.</summary>
    public double IdentityTolerance { get; init; } = 1e-9;

    /// <summary>Seed of the random directions and samples.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Run the second-order checks.</summary>
    public bool SecondOrder { get; init; } = true;
}
