[assembly: Backprop.BackpropPlugin(typeof(BackpropOpPlugin.PluginModule))]

namespace BackpropOpPlugin;

/// <summary>Registers this plugin's ops. The host calls Register once; throwing here leaves the host's registry untouched.</summary>
public sealed class PluginModule : Backprop.IOpModule
{
    /// <summary>ONNX domain of the ops.</summary>
    public const string Domain = "com.mycompany";

    public void Register(Backprop.IOpRegistry registry) => registry.AddOp(new SoftClip());
}
