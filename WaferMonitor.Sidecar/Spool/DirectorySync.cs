using System.ComponentModel;
using System.Runtime.InteropServices;

namespace WaferMonitor.Sidecar.Spool;

/// <summary>
/// fsync of a directory, so a created, renamed or deleted file survives a power cut. .NET has no API for it: this opens
/// the directory with O_DIRECTORY and calls fsync(2) through libc.
/// </summary>
internal static partial class DirectorySync
{
    // O_DIRECTORY differs between Linux architectures (asm-generic vs x86).
    private static readonly int ODirectory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = Open(directory, ODirectory);
        if (fd < 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"open({directory}) for fsync failed");
        try
        {
            if (Fsync(fd) != 0)
                throw new Win32Exception(Marshal.GetLastPInvokeError(), $"fsync({directory}) failed");
        }
        finally
        {
            Close(fd);
        }
    }
}
