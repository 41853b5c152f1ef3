namespace Backprop.Runtime;

/// <summary>How a Hessian-vector product or Jacobian is computed.</summary>
public enum DiffMode
{
    /// <summary>Reverse mode (one backward pass per output element).</summary>
    Reverse,
    /// <summary>Forward mode (one JVP per input element).</summary>
    Forward,
    /// <summary>Forward-over-reverse: a JVP of the gradient (HVP only).</summary>
    ForwardOverReverse,
    /// <summary>Reverse-over-reverse: the gradient of ⟨∇f, v⟩ (HVP only).</summary>
    ReverseOverReverse,
}

/// <summary>Function transforms: VJP, JVP, Jacobian, Hessian, Hessian-vector products. None materialises a Jacobian unless asked to.</summary>
public static class Functional
{
    /// <summary>Outputs of <paramref name="f"/> and the vector-Jacobian products of <paramref name="cotangents"/>.</summary>
    public static (Tensor[] Outputs, Tensor[] Vjps) Vjp(Func<Tensor[], Tensor[]> f, Tensor[] primals, Tensor[] cotangents, bool createGraph = false)
    {
        var leaves = primals.Select(Leaf).ToArray();
        var outputs = f(leaves);
        var grads = Autograd.Grad(outputs, leaves, cotangents, createGraph);
        return (outputs, grads.Select(g => g!).ToArray());
    }

    /// <summary>Outputs of <paramref name="f"/> and the Jacobian-vector products along <paramref name="tangents"/> (forward mode).</summary>
    public static (Tensor[] Outputs, Tensor[] Jvps) Jvp(Func<Tensor[], Tensor[]> f, Tensor[] primals, Tensor[] tangents)
    {
        using var level = ForwardAD.Enter();
        var duals = primals.Select((p, i) => ForwardAD.MakeDual(p, tangents[i], level)).ToArray();
        var outputs = f(duals);
        return (outputs.Select(o => o.Detach()).ToArray(), outputs.Select(o => ForwardAD.Tangent(o, level)).ToArray());
    }

    /// <summary>The Jacobian of a single-input, single-output function, shaped output.shape + input.shape.</summary>
    public static Tensor Jacobian(Func<Tensor, Tensor> f, Tensor x, DiffMode mode = DiffMode.Reverse)
    {
        var y = f(x.Detach());
        var rows = y.Size;
        var cols = x.Size;
        var jac = new double[rows * cols];
        if (mode == DiffMode.Forward)
        {
            for (var j = 0; j < cols; j++)
            {
                var (_, jvp) = Jvp(a => [f(a[0])], [x.Detach()], [OneHot(x, j)]);
                for (var i = 0; i < rows; i++) jac[i * cols + j] = jvp[0].GetAsDouble(i);
            }
        }
        else
        {
            var leaf = Leaf(x);
            var output = f(leaf);
            for (var i = 0; i < rows; i++)
            {
                var g = Autograd.Grad([output], [leaf], [OneHot(output, i)], retainGraph: true)[0]!;
                for (var j = 0; j < cols; j++) jac[i * cols + j] = g.GetAsDouble(j);
            }
        }
        return Tensor.FromDoubles(jac, new Shape([.. y.Shape.Dims, .. x.Shape.Dims]), x.DType);
    }

    /// <summary>The Hessian of a scalar function, shaped x.shape + x.shape.</summary>
    public static Tensor Hessian(Func<Tensor, Tensor> f, Tensor x, DiffMode mode = DiffMode.ForwardOverReverse)
    {
        var n = x.Size;
        var h = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            var col = Hvp(f, x, OneHot(x, j), mode);
            for (var i = 0; i < n; i++) h[i * n + j] = col.GetAsDouble(i);
        }
        return Tensor.FromDoubles(h, new Shape([.. x.Shape.Dims, .. x.Shape.Dims]), x.DType);
    }

    /// <summary>H·v for the Hessian H of scalar <paramref name="f"/> at <paramref name="x"/>, without forming H.</summary>
    public static Tensor Hvp(Func<Tensor, Tensor> f, Tensor x, Tensor v, DiffMode mode = DiffMode.ForwardOverReverse) => mode switch
    {
        DiffMode.ForwardOverReverse => HvpForwardOverReverse(f, x, v),
        DiffMode.ReverseOverReverse => HvpReverseOverReverse(f, x, v),
        _ => throw new ArgumentException($"Hvp takes ForwardOverReverse or ReverseOverReverse, not {mode}.", nameof(mode)),
    };

    private static Tensor HvpForwardOverReverse(Func<Tensor, Tensor> f, Tensor x, Tensor v)
    {
        using var level = ForwardAD.Enter();
        var leaf = Leaf(x);
        var dual = ForwardAD.MakeDual(leaf, v, level);
        var grad = Autograd.Grad(f(dual), dual);
        return ForwardAD.Tangent(grad, level);
    }

    private static Tensor HvpReverseOverReverse(Func<Tensor, Tensor> f, Tensor x, Tensor v)
    {
        var leaf = Leaf(x);
        var grad = Autograd.Grad(f(leaf), leaf, createGraph: true);
        return Autograd.Grad([grad], [leaf], [v])[0]!;
    }

    private static Tensor Leaf(Tensor x)
    {
        var leaf = x.Detach();
        leaf.RequiresGrad = true;
        return leaf;
    }

    private static Tensor OneHot(Tensor like, int index)
    {
        var values = new double[like.Size];
        values[index] = 1;
        return Tensor.FromDoubles(values, like.Shape, like.DType);
    }
}
