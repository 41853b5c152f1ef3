using Backprop.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("backprop");
    config.AddCommand<InfoCommand>("info").WithDescription("Lists loaded plugins, their ops and kernels, and plugins that failed.");
    config.AddCommand<RunCommand>("run").WithDescription("Runs an ONNX model on TensorProto inputs and writes each output as a TensorProto file.");
    config.AddCommand<InspectCommand>("inspect").WithDescription("Shows a model's opsets, inputs, outputs, parameter count, op histogram and unsupported ops.");
});
return app.Run(args);
