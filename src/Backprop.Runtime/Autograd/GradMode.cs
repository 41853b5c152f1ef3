namespace Backprop.Runtime;

/// <summary>Thread-local switches of the engine: gradient recording and anomaly detection.</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabled;
    [ThreadStatic] private static int t_anomaly;

    /// <summary>True when ops on this thread record the graph.</summary>
    public static bool IsEnabled => t_disabled == 0;

    /// <summary>True when anomaly detection is on for this thread.</summary>
    public static bool IsAnomalyDetectionEnabled => t_anomaly > 0;

    /// <summary>Stops recording until disposed (inference, optimizer updates).</summary>
    public static IDisposable NoGrad() => Set(enabled: false);

    /// <summary>Sets recording on or off until disposed.</summary>
    public static IDisposable Set(bool enabled)
    {
        var previous = t_disabled;
        t_disabled = enabled ? 0 : previous + 1;
        return new Scope(() => t_disabled = previous);
    }

    /// <summary>Disables recording without allocating; pair with <see cref="ExitNoGrad"/>.</summary>
    internal static int EnterNoGrad()
    {
        var previous = t_disabled;
        t_disabled = previous + 1;
        return previous;
    }

    internal static void ExitNoGrad(int previous) => t_disabled = previous;

    /// <summary>Checks every op output and every gradient for NaN/Inf until disposed.</summary>
    public static IDisposable DetectAnomaly()
    {
        t_anomaly++;
        return new Scope(() => t_anomaly--);
    }

    private sealed class Scope(Action restore) : IDisposable
    {
        private Action? _restore = restore;

        public void Dispose()
        {
            _restore?.Invoke();
            _restore = null;
        }
    }
}
