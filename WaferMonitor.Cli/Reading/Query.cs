namespace WaferMonitor.Cli.Reading;

/// <summary>A query string of the parameters that have a value, escaped.</summary>
internal static class Query
{
    public static string Build(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value))
            .Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}")
            .ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}
