using Microsoft.Playwright;

namespace WaferMonitor.Tests.Pages;

/// <summary>
/// Debian's Chromium driven by Playwright (its Node driver ships in the NuGet package; no browser is downloaded): one
/// headless browser per test, closed by <see cref="DisposeAsync"/>. Every page records its console errors.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Where the browser is; <c>CHROMIUM_PATH</c> overrides Debian's.</summary>
    public static readonly string ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;
    private readonly List<string> consoleErrors = [];

    private readonly string? token;

    private Chromium(IPlaywright playwright, IBrowser browser, string? token)
    {
        this.playwright = playwright;
        this.browser = browser;
        this.token = token;
    }

    /// <summary>Console errors and uncaught exceptions of every page opened so far.</summary>
    public IReadOnlyList<string> ConsoleErrors
    {
        get { lock (consoleErrors) return [.. consoleErrors]; }
    }

    public void AssertNoConsoleErrors()
    {
        var errors = ConsoleErrors;
        Assert.True(errors.Count == 0, "console errors:\n" + string.Join("\n", errors));
    }

    /// <param name="token">The read token every page finds in its localStorage, as an operator who entered it once.</param>
    public static async Task<Chromium> LaunchAsync(string? token)
    {
        Assert.True(File.Exists(ExecutablePath), $"no Chromium at {ExecutablePath} (apt-get install chromium)");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true });
            return new Chromium(playwright, browser, token);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A new page at 1366×768 (the smallest screen the pages are made for) in its own context.</summary>
    public async Task<IPage> OpenAsync(Uri url, string? colorScheme = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
            ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            AcceptDownloads = true,
        });
        if (token is not null)
            await context.AddInitScriptAsync($"localStorage.setItem('wm-token', {System.Text.Json.JsonSerializer.Serialize(token)})");
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                lock (consoleErrors) consoleErrors.Add($"{page.Url}: {message.Text}");
        };
        page.PageError += (_, error) =>
        {
            lock (consoleErrors) consoleErrors.Add($"{page.Url}: uncaught {error}");
        };
        await page.GotoAsync(url.ToString());
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await browser.CloseAsync();
        playwright.Dispose();
    }
}
