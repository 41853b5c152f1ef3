[assembly: Backprop.BackpropPlugin(typeof(MissingDepPlugin.MissingDepModule))]

namespace MissingDepPlugin;

public sealed class MissingDepModule : Backprop.IOpModule
{
    public void Register(Backprop.IOpRegistry registry)
    {
        if (MissingDepHelper.Helper.Name.Length == 0) return;
    }
}
