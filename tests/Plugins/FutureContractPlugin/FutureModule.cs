[assembly: Backprop.BackpropPlugin(typeof(FutureContractPlugin.FutureModule))]

namespace FutureContractPlugin;

public sealed class FutureModule : Backprop.IOpModule
{
    public void Register(Backprop.IOpRegistry registry)
    {
    }
}
