namespace Backprop.Runtime;

/// <summary>Collects one plugin's registrations so that a plugin that fails half-way leaves the runtime untouched.</summary>
internal sealed class StagingRegistry(string plugin) : IOpRegistry
{
    public List<OpRegistration> Ops { get; } = [];

    public List<(Type Contract, object Kernel, int Priority)> Kernels { get; } = [];

    public List<string> Notes { get; } = [];

    public void Note(string message) => Notes.Add(message);

    public void AddOp(IDifferentiableOp op) => Ops.Add(new OpRegistration(Validate(op), plugin, 0));

    public void OverrideOp(IDifferentiableOp op, int priority)
    {
        if (priority <= 0) throw new ArgumentOutOfRangeException(nameof(priority), "An override needs a priority above 0.");
        Ops.Add(new OpRegistration(Validate(op), plugin, priority));
    }

    public void AddKernel<TKernel>(TKernel kernel, int priority = 0) where TKernel : class =>
        Kernels.Add((typeof(TKernel), kernel ?? throw new ArgumentNullException(nameof(kernel)), priority));

    private IDifferentiableOp Validate(IDifferentiableOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var s = op.Schema ?? throw new BackpropException($"Plugin '{plugin}' registered {op.GetType().Name} with a null Schema.");
        if (string.IsNullOrWhiteSpace(s.Name)) throw new BackpropException($"Plugin '{plugin}' registered {op.GetType().Name} with an empty name.");
        if (s.MinInputs < 0 || s.MaxInputs < s.MinInputs)
            throw new BackpropException($"Plugin '{plugin}' registered '{s.QualifiedName}' with inputs {s.MinInputs}..{s.MaxInputs}.");
        var dup = Ops.FirstOrDefault(r => r.Op.Schema.Domain == s.Domain && r.Op.Schema.Name == s.Name && r.Op.Schema.SinceVersion == s.SinceVersion);
        if (dup is not null) throw new DuplicateOpException($"Plugin '{plugin}' registers '{s.QualifiedName}' (since version {s.SinceVersion}) twice.");
        return op;
    }
}
