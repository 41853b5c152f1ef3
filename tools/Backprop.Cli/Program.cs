using Backprop.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("backprop");
    config.AddCommand<InfoCommand>("info").WithDescription("Lists loaded plugins, their ops and kernels, and plugins that failed.");
});
return app.Run(args);
