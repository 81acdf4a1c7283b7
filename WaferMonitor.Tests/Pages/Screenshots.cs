using Microsoft.Playwright;

namespace WaferMonitor.Tests.Pages;

/// <summary>
/// The README's screenshots are taken by the page tests when <c>PAGES_SCREENSHOT_DIR</c> names a directory
/// (<c>PAGES_SCREENSHOT_DIR=$PWD/docs/images dotnet test --filter FullyQualifiedName~WaferMonitor.Tests.Pages</c>).
/// </summary>
public static class Screenshots
{
    public static async Task SaveAsync(IPage page, string fileName)
    {
        if (Environment.GetEnvironmentVariable("PAGES_SCREENSHOT_DIR") is not { Length: > 0 } directory)
            return;
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, fileName), FullPage = true });
    }
}
