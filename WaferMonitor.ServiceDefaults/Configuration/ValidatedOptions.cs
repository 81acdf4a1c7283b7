using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace WaferMonitor.ServiceDefaults.Configuration;

public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> from <paramref name="sectionPath"/>, validates its data annotations at start-up and
    /// reports every problem — a value that does not convert included — by its full configuration key.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string sectionPath)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new DataAnnotationsKeyValidator<T>(sectionPath));
        return services.AddOptions<T>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                try
                {
                    configuration.GetSection(sectionPath).Bind(options);
                }
                catch (InvalidOperationException ex)
                {
                    var reason = ex.InnerException?.Message ?? ex.Message;
                    throw new OptionsValidationException(sectionPath, typeof(T), [$"{ex.Message} {reason}".Trim()]);
                }
            })
            .ValidateOnStart();
    }

    private sealed class DataAnnotationsKeyValidator<T>(string sectionPath) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
                return ValidateOptionsResult.Success;
            return ValidateOptionsResult.Fail(results.Select(r =>
                $"{sectionPath}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        }
    }
}
