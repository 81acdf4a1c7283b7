using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using WaferMonitor.Archiver;
using WaferMonitor.CentralApi;
using WaferMonitor.LocalApi;
using WaferMonitor.Sdk.Client;
using WaferMonitor.ServiceDefaults.Ingest;
using WaferMonitor.Sidecar;

namespace WaferMonitor.Tests.Docs;

/// <summary>
/// The documentation cannot drift silently: every relative link in README.md and docs/*.md resolves (file and
/// #anchor), every configuration key the options classes bind is in docs/configuration.md, and the README's test
/// command is what CI runs.
/// </summary>
public sealed partial class DocsTests
{
    private static readonly string Root = FindRepoRoot();

    /// <summary>The assemblies whose options classes are documented: every service, ServiceDefaults and the SDK.</summary>
    private static readonly Assembly[] OptionAssemblies =
    [
        typeof(IngestOptions).Assembly,
        typeof(SidecarOptions).Assembly,
        typeof(LocalApiOptions).Assembly,
        typeof(CentralOptions).Assembly,
        typeof(ArchiverOptions).Assembly,
        typeof(MonitorOptions).Assembly,
        typeof(WaferMonitor.Pages.PagesOptions).Assembly,
    ];

    /// <summary>
    /// Keys read straight from configuration rather than bound to an options class (where each is read is named).
    /// </summary>
    private static readonly string[] RawKeys =
    [
        "Sites:<id>",                           // CentralApi SiteDirectory
        "SITES",                                // CentralApi SiteDirectory, v2's form
        "SiteTokens:<id>",                      // CentralApi SiteDirectory
        "services:<name>:<endpoint>:<index>",   // ServiceDefaults service discovery
        "SIDECAR_URL",                          // SDK MonitorOptions
        "SIDECAR_API_KEY",                      // SDK MonitorOptions
        "OTEL_SERVICE_NAME",                    // ServiceDefaults
        "OTEL_EXPORTER_OTLP_ENDPOINT",          // ServiceDefaults
        "ASPNETCORE_URLS",                      // ServiceDefaults UseDefaultPort
        "Logging:Console:FormatterName",        // ServiceDefaults JSON logging
    ];

    [Fact]
    public void Every_relative_link_in_the_readme_and_docs_resolves()
    {
        var files = new List<string> { Path.Combine(Root, "README.md") };
        files.AddRange(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal));
        if (File.Exists(Path.Combine(Root, "CHANGELOG.md")))
            files.Add(Path.Combine(Root, "CHANGELOG.md"));
        Assert.True(files.Count >= 9, $"expected README.md and the docs/ pages, found {files.Count} files");

        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var file in files)
        {
            foreach (var (line, target) in Links(File.ReadAllText(file)))
            {
                if (IsExternal(target))
                    continue;
                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var pathPart = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
                var resolved = pathPart.Length == 0
                    ? file
                    : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(pathPart)));
                var where = $"{Path.GetRelativePath(Root, file)}:{line}: ({target})";
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    broken.Add($"{where} — no file {Path.GetRelativePath(Root, resolved)}");
                    continue;
                }
                if (anchor is not null && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                    && !Anchors(File.ReadAllText(resolved)).Contains(anchor))
                    broken.Add($"{where} — no heading #{anchor} in {Path.GetRelativePath(Root, resolved)}");
            }
        }
        Assert.True(checkedLinks > 20, $"only {checkedLinks} relative links found; is the link parser broken?");
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void Every_bound_configuration_key_is_in_configuration_md()
    {
        var documented = DocumentedKeys();
        var optionTypes = OptionTypes().ToList();

        // Every class the services register with AddValidatedOptions<T> must be among the types found here.
        var registered = Directory.EnumerateFiles(Root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"WaferMonitor.Tests{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => AddValidatedOptionsCall().Matches(File.ReadAllText(f)).Select(m => m.Groups["type"].Value))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(registered);
        var foundNames = optionTypes.Select(t => t.Type.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(registered, name => Assert.True(foundNames.Contains(name),
            $"AddValidatedOptions<{name}> is registered but {name} has no public const SectionName the test can read"));

        var missing = new List<string>();
        var keys = 0;
        foreach (var (type, section) in optionTypes)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
                    continue;
                var key = $"{section}:{property.Name}";
                keys++;
                var present = IsSimple(property.PropertyType)
                    ? documented.Contains(key)
                    : documented.Any(k => k.StartsWith(key + ":", StringComparison.Ordinal));
                if (!present)
                    missing.Add($"{key} ({type.Name})");
            }
        }
        Assert.True(keys > 50, $"only {keys} keys found by reflection; are the option classes still found?");

        foreach (var connection in ConnectionNames())
        {
            if (!documented.Contains($"ConnectionStrings:{connection}"))
                missing.Add($"ConnectionStrings:{connection}");
        }
        Assert.True(missing.Count == 0, "Configuration keys missing from docs/configuration.md:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Keys_read_straight_from_configuration_are_in_configuration_md()
    {
        var documented = DocumentedKeys();
        var missing = RawKeys.Where(k => !documented.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "Raw configuration keys missing from docs/configuration.md:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void The_readme_test_command_is_what_ci_runs()
    {
        var ciCommand = File.ReadAllLines(Path.Combine(Root, ".ci", "run"))
            .Select(l => l.Trim())
            .Last(l => l.StartsWith("dotnet test", StringComparison.Ordinal));
        var readme = File.ReadAllLines(Path.Combine(Root, "README.md")).Select(l => l.Trim());
        Assert.Contains(ciCommand, readme);
    }

    /// <summary>Types with a <c>public const string SectionName</c> (their own or inherited), and that section.</summary>
    private static IEnumerable<(Type Type, string Section)> OptionTypes()
    {
        foreach (var type in OptionAssemblies.SelectMany(LoadableTypes))
        {
            var field = type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy);
            if (field is { IsLiteral: true } && field.GetRawConstantValue() is string section)
                yield return (type, section);
        }
    }

    /// <summary>Every <c>public const string ConnectionName</c>: the services' <c>ConnectionStrings:&lt;name&gt;</c>.</summary>
    private static IEnumerable<string> ConnectionNames() =>
        OptionAssemblies.SelectMany(LoadableTypes)
            .Select(t => t.GetField("ConnectionName", BindingFlags.Public | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true })
            .Select(f => (string)f!.GetRawConstantValue()!)
            .Distinct(StringComparer.Ordinal);

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.Where(t => t is not null)!;
        }
    }

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(Uri) || type == typeof(Guid) || type == typeof(WaferMonitor.ServiceDefaults.Configuration.Duration);
    }

    /// <summary>Every code span of docs/configuration.md (outside fenced blocks): the documented keys are written as code.</summary>
    private static HashSet<string> DocumentedKeys()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "configuration.md"));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, line) in ProseLines(text))
        {
            foreach (Match match in CodeSpan().Matches(line))
                keys.Add(match.Groups["code"].Value.Trim());
        }
        return keys;
    }

    /// <summary>Inline links <c>[text](target)</c> outside fenced blocks and code spans, with their line numbers.</summary>
    private static IEnumerable<(int Line, string Target)> Links(string markdown)
    {
        foreach (var (number, line) in ProseLines(markdown))
        {
            var prose = CodeSpan().Replace(line, "");
            foreach (Match match in InlineLink().Matches(prose))
                yield return (number, match.Groups["target"].Value);
        }
    }

    /// <summary>The anchors GitHub gives the headings of a Markdown file.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, line) in ProseLines(markdown))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
                continue;
            var slug = Slug(heading.Groups["text"].Value);
            if (seen.TryGetValue(slug, out var count))
            {
                seen[slug] = count + 1;
                anchors.Add($"{slug}-{count}");
            }
            else
            {
                seen[slug] = 1;
                anchors.Add(slug);
            }
        }
        return anchors;
    }

    /// <summary>GitHub's heading slug: link text kept, lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string heading)
    {
        var text = InlineLink().Replace(heading.Trim().TrimEnd('#').Trim(), m => m.Groups["text"].Value);
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (c == ' ')
                slug.Append('-');
            else if (c is '-' or '_' || char.IsLetterOrDigit(c) || category == UnicodeCategory.NonSpacingMark)
                slug.Append(c);
        }
        return slug.ToString();
    }

    /// <summary>Lines outside fenced code blocks, numbered from 1.</summary>
    private static IEnumerable<(int Number, string Line)> ProseLines(string markdown)
    {
        var inFence = false;
        var number = 0;
        foreach (var line in markdown.Split('\n'))
        {
            number++;
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }
            if (!inFence)
                yield return (number, line.TrimEnd('\r'));
        }
    }

    private static bool IsExternal(string target) =>
        target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WaferMonitor.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No WaferMonitor.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"(?<!`)`(?<code>[^`]+)`(?!`)")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"AddValidatedOptions<(?<type>[A-Z]\w+)>\(")]
    private static partial Regex AddValidatedOptionsCall();
}
