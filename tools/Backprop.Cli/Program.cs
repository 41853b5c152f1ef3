using Backprop.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("backprop");
    config.AddCommand<InfoCommand>("info").WithDescription("Lists loaded plugins, their ops and kernels, and plugins that failed.");
    config.AddCommand<RunCommand>("run").WithDescription("Runs an ONNX model on TensorProto inputs and writes each output as a TensorProto file.");
    config.AddCommand<GradCommand>("grad").WithDescription("Gradient of Σ⟨seed, output⟩ with respect to every floating-point input and initializer.");
    config.AddCommand<JvpCommand>("jvp").WithDescription("Forward-mode tangents of every output for tangents of inputs or initializers.");
    config.AddCommand<HvpCommand>("hvp").WithDescription("Hessian-vector product of Σ⟨seed, output⟩ with respect to the named tensors.");
    config.AddCommand<FineTuneCommand>("finetune").WithDescription("Fine-tunes an ONNX model on your data (optionally with a new head) and exports it back to ONNX.");
    config.AddCommand<DemoCommand>("demo").WithDescription("Fine-tunes the bundled ResNet18 on rendered shapes, exports it and checks it under ONNX Runtime.");
    config.AddCommand<CheckPluginCommand>("check-plugin").WithDescription("Runs the conformance kit on every op a plugin registers; non-zero exit on any failure.");
    config.AddCommand<CrashWriterCommand>("_crash-writer").IsHidden();
    config.AddCommand<SoakCommand>("_soak").IsHidden();
    config.AddCommand<GraphCommand>("graph").WithDescription("Draws the model's graph with shapes and the gradient norm on every edge (Graphviz SVG/PNG, or DOT).");
    config.AddCommand<InspectCommand>("inspect").WithDescription("Shows a model's opsets, inputs, outputs, parameter count, op histogram and unsupported ops.");
});
return app.Run(args);
