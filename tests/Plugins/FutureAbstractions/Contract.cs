namespace Backprop;

[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BackpropPluginAttribute(Type moduleType) : Attribute
{
    public Type ModuleType { get; } = moduleType;
}

public interface IOpRegistry;

public interface IOpModule
{
    void Register(IOpRegistry registry);
}
