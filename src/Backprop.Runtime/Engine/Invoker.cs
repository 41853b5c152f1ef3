namespace Backprop.Runtime;

/// <summary>Runs one op invocation: forward under no-grad, graph recording, tangent propagation, anomaly checks.</summary>
internal static class Invoker
{
    public static Tensor[] Invoke(IDifferentiableOp op, ReadOnlySpan<Tensor> inputs, OpAttributes attributes, IKernelProvider kernels)
    {
        var schema = op.Schema;
        if (inputs.Length < schema.MinInputs || inputs.Length > schema.MaxInputs)
            throw new OpInvocationException($"{schema.QualifiedName} takes {Arity(schema)} inputs, got {inputs.Length}.");
        var record = false;
        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is null) throw new OpInvocationException($"{schema.QualifiedName}: input {i} is null.");
            record |= inputs[i].RequiresGrad;
        }
        record &= GradMode.IsEnabled;
        var fused = op as IFusedKernel;
        if (op is ICompositeOp composite && (fused is null || record || ForwardAD.AnyActive && ForwardAD.HasActiveTangent(inputs.ToArray())))
            return composite.Compose(inputs, attributes);

        var ctx = new OpContext(op, attributes, inputs.ToArray(), kernels);
        Tensor[] outputs;
        var gradState = GradMode.EnterNoGrad();
        var suspension = ForwardAD.Suspend();
        var started = Profiler.Start();
        try
        {
            outputs = fused is not null ? fused.RunFused(ctx, inputs) : op.Forward(ctx, inputs);
        }
        catch (Exception e) when (OpFailedException.ShouldWrap(e))
        {
            throw OpFailedException.Wrap(op, "Forward", e);
        }
        finally
        {
            Profiler.Stop(started, op, "forward", inputs);
            suspension.Dispose();
            GradMode.ExitNoGrad(gradState);
        }
        Validate(op, inputs, outputs);
        ctx.SetOutputs(outputs);

        Node? node = null;
        if (record)
        {
            var edges = new Edge[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                var x = inputs[i];
                edges[i] = x.GradFn is Node n ? new Edge(n, x.OutputIndex, null) : x.RequiresGrad ? new Edge(null, 0, x) : default;
                ctx.NeedsInputGrad[i] = !edges[i].IsNone;
            }
            node = new Node(op, ctx, edges);
            for (var k = 0; k < outputs.Length; k++)
            {
                if (!outputs[k].DType.IsFloatingPoint()) continue;
                outputs[k].GradFn = node;
                outputs[k].OutputIndex = k;
            }
        }
        if (GradMode.IsAnomalyDetectionEnabled) CheckFinite(op, node, inputs, outputs);
        if (ForwardAD.AnyActive && ForwardAD.HasActiveTangent(ctx.InputsForEngine())) ForwardAD.Propagate(op, ctx, inputs, outputs);
        return outputs;
    }

    private static void Validate(IDifferentiableOp op, ReadOnlySpan<Tensor> inputs, Tensor[] outputs)
    {
        var expected = op.Schema.Outputs;
        if (outputs is null || (expected >= 0 && outputs.Length != expected))
            throw new OpInvocationException($"{op.Schema.QualifiedName}.Forward returned {outputs?.Length ?? 0} outputs; its schema declares {expected}.");
        foreach (var y in outputs)
        {
            if (y is null) throw new OpInvocationException($"{op.Schema.QualifiedName}.Forward returned a null output.");
            foreach (var x in inputs)
            {
                if (ReferenceEquals(x, y))
                    throw new OpInvocationException($"{op.Schema.QualifiedName}.Forward returned one of its inputs; return a new tensor (a view via ViewAs is fine).");
            }
        }
    }

    private static void CheckFinite(IDifferentiableOp op, Node? node, ReadOnlySpan<Tensor> inputs, Tensor[] outputs)
    {
        for (var i = 0; i < inputs.Length; i++)
        {
            var bad = Check.FirstNonFinite(inputs[i]);
            if (bad < 0) continue;
            if (!inputs[i].IsLeaf) return; // produced by an earlier op, reported there when anomaly mode was on
            throw new AnomalyException(
                $"Input {i} of op '{op.Schema.QualifiedName}' is non-finite ({inputs[i].GetAsDouble(bad)} at flat index {bad}, shape {inputs[i].Shape}); it is a leaf, so the caller's data holds it.");
        }
        for (var k = 0; k < outputs.Length; k++)
        {
            var at = Check.FirstNonFinite(outputs[k]);
            if (at < 0) continue;
            var where = node?.Describe() ?? $"'{op.Schema.QualifiedName}'";
            var rule = BackwardPass.CurrentRule is { } r ? $" while running the backward rule of {r.Describe()}" : "";
            throw new AnomalyException(
                $"Op {where} produced a non-finite value ({outputs[k].GetAsDouble(at)}) at flat index {at} of output {k} (shape {outputs[k].Shape}) from finite inputs{rule}.");
        }
    }

    private static string Arity(OpSchema s) => s.MinInputs == s.MaxInputs ? $"{s.MinInputs}" : $"{s.MinInputs}–{s.MaxInputs}";
}
