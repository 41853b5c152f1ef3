namespace Backprop.Data;

/// <summary>A data file that cannot be read as what it claims to be; the message names the file and the problem.</summary>
public sealed class DataFormatException(string message, Exception? inner = null) : BackpropException(message, inner);
