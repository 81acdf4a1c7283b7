using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WaferMonitor.ServiceDefaults.Configuration;

namespace WaferMonitor.Tests.ServiceDefaults;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("72h", 72 * 3600)]
    [InlineData("5m", 300)]
    [InlineData("30s", 30)]
    [InlineData("250ms", 0.25)]
    [InlineData("7d", 7 * 86400)]
    [InlineData("3.00:00:00", 3 * 86400)]
    [InlineData("00:05:00", 300)]
    public void Durations_accept_units_and_the_unambiguous_timespan_form(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text).Value);

    [Theory]
    [InlineData("72:00:00")]
    [InlineData("soon")]
    [InlineData("5 minutes")]
    public void Ambiguous_or_unknown_durations_are_refused(string text) =>
        Assert.Throws<FormatException>(() => Duration.Parse(text));

    [Fact]
    public void A_missing_setting_is_reported_with_its_full_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(("Sample:Port", "80")));
        Assert.Contains("Sample:SiteId", error.Failures.Single());
    }

    [Fact]
    public void A_value_that_does_not_convert_is_reported_with_its_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(("Sample:SiteId", "fab1"), ("Sample:Port", "eighty")));
        Assert.Contains("Sample:Port", error.Failures.Single());
    }

    [Fact]
    public void An_ambiguous_duration_setting_is_reported_with_its_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(("Sample:SiteId", "fab1"), ("Sample:Hot", "72:00:00")));
        Assert.Contains("Sample:Hot", error.Failures.Single());
        Assert.Contains("ambiguous", error.Failures.Single());
    }

    [Fact]
    public void Valid_settings_bind()
    {
        var options = Resolve(("Sample:SiteId", "fab1"), ("Sample:Hot", "72h"));
        Assert.Equal(TimeSpan.FromHours(72), options.Hot.Value);
    }

    private static SampleOptions Resolve(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddValidatedOptions<SampleOptions>("Sample");
        return services.BuildServiceProvider().GetRequiredService<IOptions<SampleOptions>>().Value;
    }

    public sealed class SampleOptions
    {
        [Required]
        public string? SiteId { get; set; }

        [Range(1, 65535)]
        public int Port { get; set; } = 80;

        public Duration Hot { get; set; } = Duration.FromHours(1);
    }
}
