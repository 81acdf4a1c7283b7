using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace WaferMonitor.Cli.Processes;

/// <summary>
/// The wrapped command: stdin and stdout are inherited untouched; stderr goes through a pipe so its last lines can be
/// kept, and is copied to our stderr as it arrives. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to us are passed on.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task _stderrPump;
    private readonly List<PosixSignalRegistration> _forwarding = [];

    private ChildProcess(Process process, StderrTail tail)
    {
        _process = process;
        _stderrPump = Task.Run(() => PumpStderrAsync(process.StandardError.BaseStream, tail));
        Forward(PosixSignal.SIGINT, Signals.SigInt);
        Forward(PosixSignal.SIGTERM, Signals.SigTerm);
        Forward(PosixSignal.SIGHUP, Signals.SigHup);
        Forward(PosixSignal.SIGQUIT, Signals.SigQuit);
    }

    public int Id => _process.Id;

    /// <summary>Starts <paramref name="command"/>; throws <see cref="Win32Exception"/> when it cannot be run.</summary>
    public static ChildProcess Start(IReadOnlyList<string> command, StderrTail tail)
    {
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1))
            info.ArgumentList.Add(argument);
        var process = Process.Start(info) ?? throw new Win32Exception($"'{command[0]}' did not start");
        return new ChildProcess(process, tail);
    }

    /// <summary>Waits for the child to exit and returns its exit code (128 + n when signal n killed it).</summary>
    public async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        // A grandchild that outlives the child may hold the pipe open; do not wait for it beyond a moment.
        await _stderrPump.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        foreach (var registration in _forwarding)
            registration.Dispose();
        _process.Dispose();
    }

    private void Forward(PosixSignal signal, int number)
    {
        _forwarding.Add(PosixSignalRegistration.Create(signal, context =>
        {
            // We stay alive until the child exits, to record its end; the child decides what the signal means.
            context.Cancel = true;
            if (number == Signals.SigInt && Posix.InForegroundOfTerminal())
                return;
            Posix.Signal(_process.Id, number);
        }));
    }

    /// <summary>Copies the child's stderr bytes unchanged (not re-encoded) and decodes a copy for the tail.</summary>
    private static async Task PumpStderrAsync(Stream stderr, StderrTail tail)
    {
        await using var ours = Console.OpenStandardError();
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[4096];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        int read;
        while ((read = await stderr.ReadAsync(bytes).ConfigureAwait(false)) > 0)
        {
            await ours.WriteAsync(bytes.AsMemory(0, read)).ConfigureAwait(false);
            await ours.FlushAsync().ConfigureAwait(false);
            var decoded = decoder.GetChars(bytes, 0, read, chars, 0);
            tail.Append(chars.AsSpan(0, decoded));
        }
    }
}
