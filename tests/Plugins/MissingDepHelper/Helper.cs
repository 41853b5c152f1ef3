namespace MissingDepHelper;

/// <summary>A dependency the MissingDepPlugin needs but is deliberately not shipped with it.</summary>
public static class Helper
{
    public static string Name => "helper";
}
