namespace WaferMonitor.Cli;

/// <summary>The command line asked for something impossible; the message is the one line the user sees.</summary>
internal sealed class UsageException(string message) : Exception(message);
