using System.Reflection;

namespace WaferMonitor.AppHost.Infrastructure;

public static class ServiceEndpoints
{
    /// <summary>
    /// The service's HTTP endpoint, not proxied: its URL is the service's own loopback socket, so no proxy sits in the
    /// ingest path and a restarted service listens on the same URL again. In run mode the service's built executable is
    /// launched directly rather than through <c>dotnet run</c>, so the resource's process is the service itself.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithServiceEndpoint(this IResourceBuilder<ProjectResource> project)
    {
        // Healthy once /health answers 200: what WaitFor(service) waits for.
        project.WithHttpEndpoint(name: "http", isProxied: false).WithHttpHealthCheck("/health");
        if (!project.ApplicationBuilder.ExecutionContext.IsRunMode)
            return project;

        var endpoint = project.GetEndpoint("http");
        project.WithEnvironment("ASPNETCORE_URLS", ReferenceExpression.Create($"http://127.0.0.1:{endpoint.Property(EndpointProperty.TargetPort)}"))
            // Aspire asks for the plain console format (under this exact name); the services log one JSON object per line, as in production.
            .WithEnvironment("LOGGING__CONSOLE__FORMATTERNAME", "json");
        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        var output = Path.Combine(Path.GetDirectoryName(projectPath)!, "bin", BuildConfiguration, "net10.0");
        var executable = Path.Combine(output, Path.GetFileNameWithoutExtension(projectPath));
        return project.WithAnnotation(new ExecutableAnnotation { Command = executable, WorkingDirectory = output },
            ResourceAnnotationMutationBehavior.Replace);
    }

    /// <summary>In the local fab the Sidecar's spool lives in the state directory; deployed, the Sidecar's default.</summary>
    public static IResourceBuilder<ProjectResource> WithLocalSpool(this IResourceBuilder<ProjectResource> sidecar, string directory) =>
        sidecar.ApplicationBuilder.ExecutionContext.IsRunMode ? sidecar.WithEnvironment("Spool__Directory", directory) : sidecar;

    /// <summary>The AppHost is built with the services (project references), in the same configuration.</summary>
    private static string BuildConfiguration { get; } =
        typeof(ServiceEndpoints).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
}
